import { z } from 'zod';
import { cadenceMigrations } from './cadence';
import { consentChannels } from './consent';
import { boundedArray, isoDuration, text } from './input';

const cadenceName = /[a-z0-9][a-z0-9-]{0,62}/.source;
export const cadenceNameSchema = z
  .string()
  .regex(new RegExp(`^${cadenceName}$`), 'must be 1–63 lower-case letters, digits or "-", such as mql-nurture');
/** A cadence, or one version of it, as the `CadenceVersion` search attribute writes it: `mql-nurture` or `mql-nurture@2`. */
export const cadenceLabelSchema = z
  .string()
  .regex(new RegExp(`^${cadenceName}(@[1-9]\\d{0,8})?$`), 'must be a cadence name, optionally with @version (mql-nurture@2)');

export const cadenceStepSchema = z
  .strictObject({
    after: isoDuration().meta({
      description: 'ISO-8601 duration after the previous step (the first step: after enrolment)',
      example: 'P3D',
    }),
    channel: z.enum(consentChannels).meta({ description: 'sent only where the lead has opted in on this channel' }),
    template: text(200),
  })
  .meta({ id: 'CadenceStep' });
export const cadenceStepsSchema = boundedArray(cadenceStepSchema, 100, 1);

/** `POST /cadences/{name}/versions` (docs/api.md, "Cadences"). */
export const publishCadenceSchema = z
  .strictObject({
    steps: cadenceStepsSchema,
    migrate: z.enum(cadenceMigrations).default('pinned').meta({
      description: '"pinned": enrolled leads finish on their version; "next_step": they switch to this version at their next step',
    }),
  })
  .meta({ id: 'CadenceVersionInput' });
export type PublishCadence = z.infer<typeof publishCadenceSchema>;
