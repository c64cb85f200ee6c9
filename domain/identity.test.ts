import { describe, expect, it } from 'vitest';
import { identityKey, leadIdFor } from './identity';

describe('identity key', () => {
  it('trims and lower-cases any address', () => {
    expect(identityKey('  Jane.Doe@Acme.IO ')).toBe('jane.doe@acme.io');
  });

  it('keeps dots and plus tags where the mailbox may treat them as different people', () => {
    expect(identityKey('jane.doe+sales@acme.io')).toBe('jane.doe+sales@acme.io');
  });

  it('drops dots and plus tags for gmail, as docs/design.md shows', () => {
    expect(identityKey('Jane.Doe+promo@gmail.com')).toBe('janedoe@gmail.com');
    expect(identityKey('jane.doe@googlemail.com')).toBe('janedoe@gmail.com');
  });

  it('drops plus tags but keeps dots for consumer domains that only ignore tags', () => {
    expect(identityKey('Jane.Doe+news@outlook.com')).toBe('jane.doe@outlook.com');
  });
});

describe('lead id', () => {
  it('is the same for every spelling of one person and different for another', () => {
    const id = leadIdFor('janedoe@gmail.com');
    expect(leadIdFor('JANE.DOE+x@gmail.com')).toBe(id);
    expect(leadIdFor('john@gmail.com')).not.toBe(id);
  });

  it('carries no PII: a fixed prefix and a hash', () => {
    const id = leadIdFor('jane@acme.io');
    expect(id).toMatch(/^lead-[0-9a-f]{24}$/);
    expect(id).not.toContain('jane');
  });
});
