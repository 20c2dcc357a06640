import { describe, expect, it } from 'vitest';
import { operatorTime, Time, TYPED_TIME_EXPECTED } from '../../src/api/time-input.js';

// The one reading of a time an operator types (console form, CLI flag) and the API's own.

describe('operatorTime', () => {
  it.each([
    ['2024-11-18T21:00', '2024-11-18T21:00:00.000Z'],
    ['2024-11-18 21:00', '2024-11-18T21:00:00.000Z'],
    ['2024-11-18 21:00:30', '2024-11-18T21:00:30.000Z'],
    ['2024-11-18T21:00:30.25', '2024-11-18T21:00:30.250Z'],
    [' 2024-11-18T21:00Z ', '2024-11-18T21:00:00.000Z'],
    ['2024-11-18T21:00:00Z', '2024-11-18T21:00:00.000Z'],
    ['2024-11-18t21:00:00z', '2024-11-18T21:00:00.000Z'],
    ['2024-11-18T23:00:00+02:00', '2024-11-18T21:00:00.000Z'],
  ])('reads %j as %s (no offset: UTC)', (typed, iso) => {
    expect(operatorTime(typed)).toEqual({ ok: true, value: iso });
    // What it gives is what the API takes.
    expect(Time.safeParse(iso).success).toBe(true);
  });

  it.each(['yesterday', '2024-11-18', '2024-02-30T10:00', '2024-11-18T25:00', '2024-11-18T21:00+0200', '1731963600000', ''])(
    'refuses %j',
    (typed) => {
      expect(operatorTime(typed)).toEqual({ ok: false, message: TYPED_TIME_EXPECTED });
    },
  );
});
