import { describe, expect, it } from 'vitest';
import { escapeSlackText } from './slack-text';

describe('escapeSlackText', () => {
  it('turns a hostile company name into inert text: no @channel, no disguised link', () => {
    const escaped = escapeSlackText('<!channel> <https://evil.example/accept|Accept this lead>');
    expect(escaped).toBe('&lt;!channel&gt; &lt;https://evil.example/accept|Accept this lead&gt;');
    expect(escaped).not.toMatch(/[<>]/);
  });

  it('escapes & first, so an entity typed by the user is shown as typed rather than decoded', () => {
    expect(escapeSlackText('AT&T &lt;b&gt;')).toBe('AT&amp;T &amp;lt;b&amp;gt;');
  });

  it('leaves ordinary text, including non-ASCII, unchanged', () => {
    expect(escapeSlackText('Müller & Söhne GmbH')).toBe('Müller &amp; Söhne GmbH');
    expect(escapeSlackText('Acme Inc')).toBe('Acme Inc');
  });
});
