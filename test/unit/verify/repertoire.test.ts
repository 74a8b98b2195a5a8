import { describe, expect, it } from 'vitest';
import { canRepresent } from '../../../src/verify/repertoire.js';

describe('canRepresent', () => {
  it('knows what single-byte sets hold', () => {
    expect(canRepresent('Buc^Jérôme', 'ISO_IR 100')).toBe(true);
    expect(canRepresent('Διονυσιος', 'ISO_IR 100')).toBe(false);
    expect(canRepresent('Διονυσιος', 'ISO_IR 126')).toBe(true);
    expect(canRepresent('Люкceмбypг', 'ISO_IR 144')).toBe(true);
    expect(canRepresent('Люкceмбypг', 'ISO_IR 100')).toBe(false);
    expect(canRepresent('Doe^John', '')).toBe(true);
    expect(canRepresent('Jérôme', '')).toBe(false);
    expect(canRepresent('Jérôme', undefined)).toBe(false);
  });

  it('takes multi-byte and ISO 2022 sets as able to hold names, and code extensions as a union', () => {
    expect(canRepresent('山田^太郎', 'ISO_IR 192')).toBe(true);
    expect(canRepresent('王^小东', 'GB18030')).toBe(true);
    expect(canRepresent('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎', 'ISO 2022 IR 13\\ISO 2022 IR 87')).toBe(true);
    expect(canRepresent('Jérôme Διονυσιος', 'ISO 2022 IR 100\\ISO 2022 IR 126')).toBe(true);
    expect(canRepresent('Люкceмбypг', 'ISO 2022 IR 100\\ISO 2022 IR 126')).toBe(false);
    expect(canRepresent('anything', 'NO SUCH SET')).toBe(true);
  });
});
