import { validateSettings } from './settings.schema';

describe('validateSettings', () => {
  it('fills the defaults, with ABP’s worker values', () => {
    const settings = validateSettings({});
    expect(settings).toMatchObject({
      ConnectionStrings__AbpBackgroundJobs: '',
      Database__AutoMigrate: true,
      AbpBackgroundJobWorker__JobPollPeriod: 5000,
      AbpBackgroundJobWorker__MaxJobFetchCount: 1000,
      AbpBackgroundJobWorker__DefaultFirstWaitDuration: 60,
      AbpBackgroundJobWorker__DefaultTimeout: 172800,
      AbpBackgroundJobWorker__DefaultWaitFactor: 2,
      AbpBackgroundJobWorker__MaxParallelJobExecutionCount: 1,
      PORT: 3000,
    });
  });

  it('leaves the worker without a port unless Worker__HttpPort names one, and /metrics to loopback', () => {
    expect(validateSettings({})).toMatchObject({ Metrics__AllowRemote: false });
    expect(validateSettings({}).Worker__HttpPort).toBeUndefined();
    expect(validateSettings({ Worker__HttpPort: '' }).Worker__HttpPort).toBeUndefined();
    expect(validateSettings({ Worker__HttpPort: '9464', Metrics__AllowRemote: 'true' })).toMatchObject({
      Worker__HttpPort: 9464,
      Metrics__AllowRemote: true,
    });
    expect(() => validateSettings({ Worker__HttpPort: 'http' })).toThrow(/Worker__HttpPort="http": must be a number/);
  });

  it("takes ABP's table prefix (Abp by default) and schema (none), letters, digits and underscores only", () => {
    expect(validateSettings({})).toMatchObject({ BackgroundJobs__DbTablePrefix: 'Abp', BackgroundJobs__DbSchema: '' });
    expect(
      validateSettings({ BackgroundJobs__DbTablePrefix: 'App_2', BackgroundJobs__DbSchema: 'jobs' }),
    ).toMatchObject({ BackgroundJobs__DbTablePrefix: 'App_2', BackgroundJobs__DbSchema: 'jobs' });
    expect(() => validateSettings({ BackgroundJobs__DbTablePrefix: 'App.x' })).toThrow(
      /BackgroundJobs__DbTablePrefix="App.x": .*letters, digits and underscores/,
    );
    expect(() => validateSettings({ BackgroundJobs__DbSchema: 'a b' })).toThrow(/BackgroundJobs__DbSchema="a b"/);
    expect(() => validateSettings({ BackgroundJobs__DbTablePrefix: 'A'.repeat(21) })).toThrow(
      /BackgroundJobs__DbTablePrefix=.* 20 characters/,
    );
  });

  it('converts the text the environment gives', () => {
    const settings = validateSettings({
      AbpBackgroundJobWorker__JobPollPeriod: '250',
      Database__AutoMigrate: 'false',
      DatabaseProvider: 'postgresql',
    });
    expect(settings).toMatchObject({ AbpBackgroundJobWorker__JobPollPeriod: 250, Database__AutoMigrate: false });
  });

  it('names every bad setting and its value', () => {
    const attempt = () =>
      validateSettings({
        AbpBackgroundJobWorker__JobPollPeriod: 'often',
        DatabaseProvider: 'Oracle',
        PORT: '99999',
        OTHER: 'kept',
      });
    expect(attempt).toThrow(/^Invalid settings:/);
    expect(attempt).toThrow('AbpBackgroundJobWorker__JobPollPeriod="often": must be a number');
    expect(attempt).toThrow(/DatabaseProvider="Oracle": must be one of/);
    expect(attempt).toThrow(/PORT="99999": must be a valid port/);
  });

  it('refuses an ApplicationName longer than its 96-character column', () => {
    expect(() => validateSettings({ AbpBackgroundJobWorker__ApplicationName: 'a'.repeat(97) })).toThrow(
      /AbpBackgroundJobWorker__ApplicationName="a{97}": length must be less than or equal to 96/,
    );
  });

  it.each([
    '',
    'false',
    'true',
    '1',
    'loopback',
    '10.0.0.0/8, 192.168.1.7',
    '::1/128,fc00::/7',
    '10.1.0.0/255.255.0.0',
  ])('accepts Web__TrustProxy=%j as Express reads it', (value) => {
    expect(validateSettings({ Web__TrustProxy: value })).toMatchObject({ Web__TrustProxy: value });
  });

  it.each(['yes', '10.0.0.0/33', 'proxy.example.com', '1.2.3.4/8/8', '-1'])(
    'refuses Web__TrustProxy=%j, naming it',
    (value) => {
      expect(() => validateSettings({ Web__TrustProxy: value })).toThrow(`Web__TrustProxy=${JSON.stringify(value)}:`);
    },
  );

  it("fills ABP 10.6's StoreSuccessfulJobs settings with its defaults: off, 7 days, hourly", () => {
    expect(validateSettings({})).toMatchObject({
      AbpBackgroundJobWorker__StoreSuccessfulJobs: false,
      AbpBackgroundJobWorker__SuccessfulJobRetentionTime: 604_800,
      AbpBackgroundJobWorker__CleanSuccessfulJobsPeriod: 3_600_000,
      AbpBackgroundJobWorker__ExcludeJobNames: '',
    });
  });

  it.each([
    ['7.00:00:00', 604_800],
    ['1.02:03:04.5', 93_784.5],
    ['01:30', 5400],
    ['00:00:30', 30],
    ['3600', 3600],
    ['0.5', 0.5],
    ['', null],
  ])('reads SuccessfulJobRetentionTime=%j as seconds (.NET TimeSpan or seconds; empty: keep)', (value, seconds) => {
    expect(validateSettings({ AbpBackgroundJobWorker__SuccessfulJobRetentionTime: value })).toMatchObject({
      AbpBackgroundJobWorker__SuccessfulJobRetentionTime: seconds,
    });
  });

  it.each(['7 days', '-1', '25:00:00', '00:61', 'P7D'])('refuses SuccessfulJobRetentionTime=%j, naming it', (value) => {
    expect(() => validateSettings({ AbpBackgroundJobWorker__SuccessfulJobRetentionTime: value })).toThrow(
      `AbpBackgroundJobWorker__SuccessfulJobRetentionTime=${JSON.stringify(value)}: failed custom validation because must be a number of seconds`,
    );
  });

  it('refuses a CleanSuccessfulJobsPeriod that is not a positive whole number of milliseconds', () => {
    expect(() => validateSettings({ AbpBackgroundJobWorker__CleanSuccessfulJobsPeriod: '0' })).toThrow(
      'AbpBackgroundJobWorker__CleanSuccessfulJobsPeriod="0": must be greater than or equal to 1',
    );
    expect(() => validateSettings({ AbpBackgroundJobWorker__StoreSuccessfulJobs: 'sometimes' })).toThrow(
      'AbpBackgroundJobWorker__StoreSuccessfulJobs="sometimes": must be a boolean',
    );
  });

  it('mounts the dashboard at /jobs, open to this machine only, by default', () => {
    expect(validateSettings({})).toMatchObject({
      Dashboard__Path: '/jobs',
      Dashboard__Enabled: true,
      Dashboard__Username: '',
      Dashboard__Password: '',
      Dashboard__ReadOnly: false,
    });
  });

  it('reads Dashboard__Path as a path below the root, and refuses one that is not', () => {
    expect(validateSettings({ Dashboard__Path: 'ops/jobs/' })).toMatchObject({ Dashboard__Path: '/ops/jobs' });
    expect(() => validateSettings({ Dashboard__Path: '/' })).toThrow('Dashboard__Path="/":');
    expect(() => validateSettings({ Dashboard__Path: '/a b' })).toThrow('Dashboard__Path="/a b":');
    expect(() => validateSettings({ Dashboard__Path: '/"><script>' })).toThrow('Dashboard__Path=');
  });

  it('needs Dashboard__Username and Dashboard__Password together', () => {
    expect(validateSettings({ Dashboard__Username: 'ops', Dashboard__Password: 's3cret' })).toMatchObject({
      Dashboard__Username: 'ops',
      Dashboard__Password: 's3cret',
    });
    expect(() => validateSettings({ Dashboard__Username: 'ops' })).toThrow(
      'Dashboard__Password=undefined: is needed with Dashboard__Username',
    );
    expect(() => validateSettings({ Dashboard__Password: 's3cret' })).toThrow(
      'Dashboard__Password=(hidden): is set, but Dashboard__Username is not',
    );
  });
});
