import { isRecord, sameSignature, sha256 } from './signatures';
import { UnreadablePayload, type FormVendor, type Submission } from '../../contracts/vendors';

/** `q3_email` → `email`, `q12_companyName12` → `companyName`: the name Jotform derives from the question's label. */
const plainName = (key: string) => key.replace(/^q\d+_/, '').replace(/\d+$/, '');

/**
 * Jotform signs nothing: the URL carries a secret token (`?token=`), kept hashed by the source and
 * compared in constant time. The body is `multipart/form-data` (or urlencoded) whose `rawRequest`
 * is the submission as JSON: `q3_email`, `q4_name: {first, last}`, `q5_phoneNumber: {full}`...
 * The event id is `submissionID`.
 */
export const jotform: FormVendor = {
  verify(request, { tokenHash }) {
    if (!tokenHash) return 'the source has no URL token';
    const token = new URL(request.url).searchParams.get('token');
    if (!token) return 'missing token in the URL';
    return sameSignature(sha256(token).toString('hex'), tokenHash) ? undefined : 'the URL token does not match';
  },
  async read(request) {
    const form = await new Response(request.body, { headers: { 'content-type': request.headers['content-type'] ?? '' } })
      .formData()
      .catch(() => {
        throw new UnreadablePayload('the body is not form data');
      });
    const submissionId = form.get('submissionID');
    const raw = form.get('rawRequest');
    if (typeof submissionId !== 'string' || typeof raw !== 'string')
      throw new UnreadablePayload('not a Jotform submission (no submissionID or rawRequest)');
    let answers: unknown;
    try {
      answers = JSON.parse(raw);
    } catch {
      throw new UnreadablePayload('the rawRequest is not JSON');
    }
    if (!isRecord(answers)) throw new UnreadablePayload('the rawRequest is not an object');
    const values: Record<string, unknown> = {};
    const known: Submission['known'] = {};
    for (const [key, value] of Object.entries(answers)) {
      values[key] = isRecord(value) && typeof value.full === 'string' ? value.full : value;
      values[plainName(key)] ??= values[key];
      if (isRecord(value) && ('first' in value || 'last' in value)) {
        known.firstName ??= value.first;
        known.lastName ??= value.last;
      }
    }
    return [{ eventId: submissionId, values, known, utm: {} }];
  },
};
