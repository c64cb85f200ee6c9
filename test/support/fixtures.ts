/** What many tests share: business hours that never close, so that SLA clocks run at once. */
export const alwaysOpen = { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };

/** Monday to Friday, nine to five in UTC: the hours whose edges the SLA tests cross. */
export const weekdaysNineToFive = { timeZone: 'UTC', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
