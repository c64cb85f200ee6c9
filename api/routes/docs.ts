import { createRequire } from 'node:module';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { html } from 'hono/html';

/**
 * Swagger UI's files from the `swagger-ui-dist` package, so that `/docs` works on a machine without
 * internet (a CDN-loaded page is blank there). `absolute-path.js` is the package's documented
 * `absolutePath()`; required on its own because the package's main module loads the whole
 * 1.5 MB browser bundle into Node.
 */
const swaggerUiDir: string = createRequire(import.meta.url)('swagger-ui-dist/absolute-path.js')();

export const docsAssets = '/docs/assets';
/** The page's start-up script, a file rather than inline: the CSP allows scripts from the app's origin only (docs/operations/security.md). */
const docsScriptUrl = `${docsAssets}/start.js`;
// validatorUrl: null, or Swagger UI fetches a badge from validator.swagger.io.
const init = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', validatorUrl: null, deepLinking: true });\n`;

const page = html`<!doctype html>
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>Lead orchestration API</title>
      <link rel="icon" type="image/png" href="${docsAssets}/favicon-32x32.png" />
      <link rel="stylesheet" href="${docsAssets}/swagger-ui.css" />
    </head>
    <body>
      <div id="swagger-ui"></div>
      <script src="${docsAssets}/swagger-ui-bundle.js"></script>
      <script src="${docsScriptUrl}"></script>
    </body>
  </html>`;

/** `GET /docs`: the interactive API reference, served entirely from the app's own dependencies. */
export function docsRoutes() {
  return new Hono()
    .get('/docs', (c) => c.html(page))
    .get(docsScriptUrl, (c) => c.body(init, 200, { 'content-type': 'text/javascript; charset=utf-8' }))
    .use(`${docsAssets}/*`, serveStatic({ root: swaggerUiDir, rewriteRequestPath: (path) => path.slice(docsAssets.length) }));
}
