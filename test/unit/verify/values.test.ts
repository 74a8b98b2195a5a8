import { describe, expect, it } from 'vitest';
import { compareValues } from '../../../src/verify/values.js';

describe('compareValues', () => {
  it('compares numbers by value: DS/IS strings, binary numbers, arrays', () => {
    expect(compareValues('SliceThickness', '5', '5.0', 'file')).toBe('equal');
    expect(compareValues('SliceThickness', '5', '5.01', 'file')).toBe('different');
    expect(compareValues('PixelSpacing', '0.5\\0.5', ' .5\\0.50', 'file')).toBe('equal');
    expect(compareValues('PixelSpacing', '0.5\\0.5', '0.5', 'file')).toBe('different');
    expect(compareValues('InstanceNumber', '7', '+7 ', 'file')).toBe('equal');
    expect(compareValues('Rows', 512, [512], 'file')).toBe('equal');
    expect(compareValues('Rows', 512, 256, 'file')).toBe('different');
    expect(compareValues('InstanceNumber', 'x', 'x', 'file')).toBe('equal');
  });

  it('compares person names without padding and empty trailing components, case-sensitively', () => {
    expect(compareValues('PatientName', 'Doe^John', 'Doe^John^^^', 'file')).toBe('equal');
    expect(compareValues('PatientName', 'Yamada^Tarou=山田^太郎=', 'Yamada^Tarou=山田^太郎', 'file')).toBe(
      'equal',
    );
    expect(compareValues('PatientName', 'Doe^John', 'DOE^JOHN', 'file')).toBe('different');
    expect(compareValues('PatientName', 'Doe^John', 'Doe^Jon', 'file')).toBe('different');
  });

  it('compares times without trailing fraction zeros, text without trailing padding', () => {
    expect(compareValues('StudyTime', '101500.000', '101500', 'file')).toBe('equal');
    expect(compareValues('StudyTime', '101500.5', '101500.50', 'file')).toBe('equal');
    expect(compareValues('StudyTime', '101500', '101501', 'file')).toBe('different');
    expect(compareValues('StudyDescription', 'CHEST ', 'CHEST', 'file')).toBe('equal');
    expect(compareValues('StudyDescription', 'CHEST', 'chest', 'file')).toBe('different');
    expect(compareValues('ImageType', 'ORIGINAL\\PRIMARY', ['ORIGINAL', 'PRIMARY '], 'file')).toBe('equal');
  });

  it('treats an empty or absent answer as unanswered in a C-FIND answer, as a difference in a file', () => {
    expect(compareValues('PatientSex', 'F', '', 'query')).toBe('unanswered');
    expect(compareValues('PatientSex', 'F', undefined, 'query')).toBe('unanswered');
    expect(compareValues('PatientSex', 'F', undefined, 'file')).toBe('unanswered');
    expect(compareValues('PatientSex', 'F', '', 'file')).toBe('different');
    expect(compareValues('PatientSex', 'F', null, 'file')).toBe('different');
    expect(compareValues('PatientSex', '', 'F', 'query')).toBe('different');
    expect(compareValues('PatientSex', null, '', 'query')).toBe('equal');
    expect(compareValues('PatientSex', null, '', 'file')).toBe('equal');
  });
});
