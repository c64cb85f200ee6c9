/**
 * The console's one script (served at `consoleScriptUrl`): the template editor's live preview.
 * On each edit (debounced) it posts the form to the preview action, which renders the template
 * with the same engine as the notifier on a sample lead, and swaps the preview section in. Without
 * it the "Preview" button does the same by a full page.
 */
export const consoleScript = `
const form = document.querySelector('form[data-live-preview]');
if (form) {
  let timer;
  let sent = 0;
  const refresh = async () => {
    const mine = ++sent;
    const answer = await fetch(form.dataset.livePreview, { method: 'POST', body: new URLSearchParams(new FormData(form)), credentials: 'same-origin' });
    if (mine !== sent || !answer.ok) return;
    const next = new DOMParser().parseFromString(await answer.text(), 'text/html').querySelector('#preview');
    const current = document.querySelector('#preview');
    if (next && current) current.replaceWith(document.importNode(next, true));
  };
  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refresh, 300); });
}
`;
