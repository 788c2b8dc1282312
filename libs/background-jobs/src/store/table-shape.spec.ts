import { Logger } from '@nestjs/common';
import { ABP_TABLE_SHAPE, perShape, shapeOf, TableShape, TableShapeCache, tableColumns } from './table-shape';

describe('the table shape', () => {
  afterEach(() => jest.restoreAllMocks());

  it("tells ABP 9.1, 9.2 and 10.6 tables apart by their columns, and lists a shape's columns in ABP's order", () => {
    const abp91 = ['Id', 'JobName', 'JobArgs', 'TryCount', 'CreationTime', 'NextTryTime', 'LastTryTime', 'IsAbandoned'];
    expect(shapeOf(abp91)).toEqual({ applicationName: false, completionTime: false });
    expect(shapeOf([...abp91, 'ApplicationName'])).toEqual({ applicationName: true, completionTime: false });
    expect(shapeOf([...abp91, 'CompletionTime', 'ApplicationName'])).toEqual(ABP_TABLE_SHAPE);
    expect(tableColumns({ applicationName: false, completionTime: false })).not.toContain('ApplicationName');
    expect(tableColumns(ABP_TABLE_SHAPE).slice(0, 3)).toEqual(['Id', 'ApplicationName', 'JobName']);
  });

  it('builds once per shape', () => {
    const build = jest.fn((shape: TableShape) => ({ ...shape }));
    const statements = perShape(build);
    const old = { applicationName: false, completionTime: false };
    expect(statements({ ...old })).toBe(statements({ ...old }));
    expect(statements(ABP_TABLE_SHAPE)).not.toBe(statements(old));
    expect(build).toHaveBeenCalledTimes(2);
  });

  it('reads the catalog once and keeps what it found, saying once what a missing column means', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const read = jest.fn(async () => ({ applicationName: false, completionTime: false }));
    const cache = new TableShapeCache(read);
    const shapes = await Promise.all([cache.shape(), cache.shape()]);
    await cache.shape();
    cache.learned({ applicationName: false, completionTime: false });
    expect(shapes).toEqual([
      { applicationName: false, completionTime: false },
      { applicationName: false, completionTime: false },
    ]);
    expect(read).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls.map(([message]) => String(message))).toEqual([
      expect.stringMatching(/^AbpBackgroundJobs has no ApplicationName column .* without the ApplicationName filter/),
    ]);
    expect(log.mock.calls.map(([message]) => String(message))).toEqual([
      expect.stringMatching(/^AbpBackgroundJobs has no CompletionTime column .* StoreSuccessfulJobs is unavailable/),
    ]);
  });

  it("keeps nothing while there is no table (ABP 10.6's shape meanwhile), nor after a failed read; says nothing of ABP 10.6's table", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const answers: Array<TableShape | undefined | Error> = [undefined, new Error('down'), ABP_TABLE_SHAPE];
    const cache = new TableShapeCache(async () => {
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return answer;
    });
    expect(await cache.shape()).toEqual(ABP_TABLE_SHAPE);
    await expect(cache.shape()).rejects.toThrow('down');
    expect(await cache.shape()).toEqual(ABP_TABLE_SHAPE);
    expect(await cache.shape()).toEqual(ABP_TABLE_SHAPE);
    expect(answers).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });
});
