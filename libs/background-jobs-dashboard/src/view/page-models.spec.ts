import { fakeJob } from '../../../../test/support/fake-background-jobs-admin';
import { DashboardLinks, jobModel, resultOf } from './page-models';

describe('page models', () => {
  it("resultOf reads a kept job's ExtraProperties.Result, indented, and its ResultNote", () => {
    expect(resultOf('{"Result":{"pages":3}}')).toEqual({ text: '{\n  "pages": 3\n}', note: undefined });
    expect(resultOf('{"Result":null}')).toEqual({ text: 'null', note: undefined });
    expect(resultOf('{"Result":"abc","ResultNote":"cut at 65536 characters"}')).toEqual({
      text: '"abc"',
      note: 'cut at 65536 characters',
    });
    expect(resultOf('{"ResultNote":"not JSON: a cycle"}')).toEqual({ text: undefined, note: 'not JSON: a cycle' });
    for (const none of ['{}', '{"LastError":"x"}', 'not json', '[1]', 'null']) expect(resultOf(none)).toBeUndefined();
  });

  it("a succeeded job's model carries its result; cancel only while not finished", () => {
    const links = new DashboardLinks('/jobs');
    const done = fakeJob('succeeded', { extraProperties: '{"Result":{"pages":3}}' });
    expect(jobModel(done, links, new Date(), false)).toMatchObject({ result: { text: '{\n  "pages": 3\n}' } });
    expect(jobModel(done, links, new Date(), false).cancelHref).toBeUndefined();
    const waiting = fakeJob('waiting');
    expect(jobModel(waiting, links, new Date(), false).cancelHref).toBe(`/jobs/jobs/${waiting.id}/cancel`);
    expect(jobModel(waiting, links, new Date(), true).cancelHref).toBeUndefined();
  });
});
