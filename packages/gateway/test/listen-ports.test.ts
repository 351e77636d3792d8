import { describe, expect, it } from 'vitest';
import { parseListenPorts } from '../src/index.ts';

describe('parseListenPorts (--listen DECLARED=LISTEN)', () => {
  it('maps declared Gateway ports to listen ports, 0 meaning any free one', () => {
    expect(parseListenPorts(['8080=0', '443=8443'])).toEqual({ 8080: 0, 443: 8443 });
  });

  it.each([['8080'], ['http=0'], ['0=0'], ['70000=1'], ['8080=70000'], ['8080=-1']])(
    'refuses %s, naming the value',
    (value) => {
      expect(() => parseListenPorts([value])).toThrow(`--listen "${value}" must be DECLARED=LISTEN`);
    },
  );

  it('refuses a port mapped twice', () => {
    expect(() => parseListenPorts(['443=0', '443=1'])).toThrow('--listen maps port 443 twice');
  });
});
