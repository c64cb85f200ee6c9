import { createHash } from 'node:crypto';
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
  const secret = 'a deployment secret of at least 32 characters';

  it('is the same for every spelling of one person and different for another', () => {
    const id = leadIdFor('janedoe@gmail.com', secret);
    expect(leadIdFor('JANE.DOE+x@gmail.com', secret)).toBe(id);
    expect(leadIdFor('john@gmail.com', secret)).not.toBe(id);
  });

  it('carries no PII: a fixed prefix and a hash', () => {
    const id = leadIdFor('jane@acme.io', secret);
    expect(id).toMatch(/^lead-[0-9a-f]{24}$/);
    expect(id).not.toContain('jane');
  });

  it('cannot be computed from the email alone: it is keyed, not a plain hash of the identity key', () => {
    const id = leadIdFor('jane@acme.io', secret);
    expect(leadIdFor('jane@acme.io', 'another deployment secret of 32 characters')).not.toBe(id);
    expect(id).not.toBe('lead-' + createHash('sha256').update(identityKey('jane@acme.io')).digest('hex').slice(0, 24));
  });
});
