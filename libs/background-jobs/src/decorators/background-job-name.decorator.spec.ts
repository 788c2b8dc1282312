import 'reflect-metadata';
import { BackgroundJobName, getJobName } from './background-job-name.decorator';

describe('BackgroundJobName', () => {
  it('names the args class; without it the name is the class name', () => {
    @BackgroundJobName('Reports.Send')
    class Named {}
    class Unnamed {}
    expect(getJobName(Named)).toBe('Reports.Send');
    expect(getJobName(Unnamed)).toBe('Unnamed');
  });

  it.each([[''], ['x'.repeat(129)], ['Line\nBreak'], ['Tab\there'], ['Nul\u0000']])('refuses %j', (name) => {
    expect(() => BackgroundJobName(name)).toThrow(/1 to 128 characters long, without control characters/);
  });

  it('accepts 128 characters and any printable text', () => {
    expect(() => BackgroundJobName('x'.repeat(128))).not.toThrow();
    expect(() => BackgroundJobName('Grüße.Job 😀 "quoted"')).not.toThrow();
  });
});
