import { parseConnectionString } from './connection-string';

describe('parseConnectionString: SQL Server', () => {
  it('reads the .NET form with host,port, a quoted password and the TLS settings', () => {
    const connection = parseConnectionString(
      'Server=db.example.com,1444;Database=Jobs;User Id=abp;Password="p;w""d";TrustServerCertificate=True;Encrypt=False;Max Pool Size=20',
    );
    expect(connection.provider).toBe('sqlserver');
    expect(connection.typeorm).toMatchObject({
      type: 'mssql',
      host: 'db.example.com',
      port: 1444,
      database: 'Jobs',
      username: 'abp',
      password: 'p;w"d',
      pool: { max: 20 },
      options: { useUTC: true, encrypt: false, trustServerCertificate: true },
    });
    expect(connection.description).toBe('SQL Server db.example.com:1444/Jobs');
    expect(connection.description).not.toContain('p;w');
  });

  it('reads the older keywords: Data Source=tcp:host\\instance, Initial Catalog, UID/PWD, Connect Timeout', () => {
    const connection = parseConnectionString(
      'Data Source=tcp:sql01\\JOBS;Initial Catalog=Abp;UID=u;PWD=p;Connect Timeout=7',
    );
    expect(connection.provider).toBe('sqlserver');
    expect(connection.typeorm).toMatchObject({
      host: 'sql01',
      database: 'Abp',
      username: 'u',
      password: 'p',
      connectionTimeout: 7000,
      options: { instanceName: 'JOBS', useUTC: true },
    });
    expect(connection.description).toBe('SQL Server sql01\\JOBS/Abp');
  });

  it.each([
    ['Mandatory', true],
    ['yes', true],
    ['Optional', false],
    ['Strict', 'strict'],
  ])('reads Encrypt=%s as SqlClient does', (value, encrypt) => {
    expect(parseConnectionString(`Server=h;Database=d;User Id=u;Password=p;Encrypt=${value}`).typeorm).toMatchObject({
      options: { encrypt },
    });
  });

  it('signs a DOMAIN\\user login in with NTLM', () => {
    expect(parseConnectionString('Server=h;Database=d;User Id=CORP\\bob;Password=p').typeorm).toMatchObject({
      username: 'bob',
      authentication: { type: 'ntlm', options: { domain: 'CORP', userName: 'bob', password: 'p' } },
    });
  });

  it.each([
    'mssql://abp:p%40ss@db.example.com:1444/Jobs?encrypt=true&trustServerCertificate=true',
    'sqlserver://abp:p%40ss@db.example.com:1444/Jobs?Encrypt=true&TrustServerCertificate=true',
  ])('reads the URL %p', (url) => {
    const connection = parseConnectionString(url);
    expect(connection.provider).toBe('sqlserver');
    expect(connection.typeorm).toMatchObject({
      type: 'mssql',
      host: 'db.example.com',
      port: 1444,
      database: 'Jobs',
      username: 'abp',
      password: 'p@ss',
      options: { useUTC: true, encrypt: true, trustServerCertificate: true },
    });
    expect(connection.description).not.toContain('p@ss');
  });

  it("reads node-mssql's URL with a named instance before the database", () => {
    expect(parseConnectionString('mssql://u:p@h/SQLEXPRESS/Jobs').typeorm).toMatchObject({
      host: 'h',
      database: 'Jobs',
      options: { instanceName: 'SQLEXPRESS' },
    });
  });

  it("refuses the seed's LocalDB string and says what to write instead", () => {
    const seed = 'Server=(LocalDb)\\MSSQLLocalDB;Database=SeparateBackgroundJob;Trusted_Connection=True';
    expect(() => parseConnectionString(seed)).toThrow(
      /LocalDB \(\(LocalDb\)\\MSSQLLocalDB\) is a Windows-only SQL Server.*write Server=localhost,1433;Database=<database>;User Id=<login>;Password=<password>;TrustServerCertificate=True/,
    );
  });

  it.each([
    'Server=db;Database=Jobs;Trusted_Connection=True',
    'Server=db;Database=Jobs;Integrated Security=SSPI',
    'Data Source=db;Initial Catalog=Jobs;Integrated Security=true',
  ])('refuses Windows integrated security in %p and names SQL logins and NTLM instead', (text) => {
    expect(() => parseConnectionString(text)).toThrow(
      /Windows integrated security .* not available from Node\. Use a SQL Server login: .*DOMAIN\\user/,
    );
  });

  it.each([
    ['no database', 'Server=db;User Id=u;Password=p', /no Database; without one the login's default database/],
    ['named pipes', 'Server=np:\\\\db\\pipe\\sql\\query;Database=d', /named pipes .* are not supported/],
    [
      'Azure AD authentication',
      'Server=db;Database=d;Authentication=Active Directory Default',
      /Authentication=Active Directory Default is not supported/,
    ],
    ['an unknown Encrypt', 'Server=db;Database=d;Encrypt=maybe', /Encrypt="maybe" is not one of/],
    ['an unknown URL parameter', 'mssql://u:p@db/d?pool=5', /unknown URL parameter "pool"/],
    ['a URL without a database', 'mssql://u:p@db', /no Database/],
  ])('refuses %s with a clear message', (_what, text, message) => {
    expect(() => parseConnectionString(text)).toThrow(message);
  });

  it('takes a Data Source with SqlClient keywords for SQL Server, not a SQLite file', () => {
    expect(parseConnectionString('Data Source=sql01,1433;Database=Jobs;User ID=u;Password=p').provider).toBe(
      'sqlserver',
    );
  });
});

describe('parseConnectionString: MySQL and MariaDB', () => {
  it.each(['mysql://abp:p%40ss@db.example.com:3307/jobs', 'mariadb://abp:p%40ss@db.example.com:3307/jobs'])(
    'reads the URL %p',
    (url) => {
      const connection = parseConnectionString(url);
      expect(connection.provider).toBe('mysql');
      expect(connection.typeorm).toMatchObject({
        type: 'mysql',
        host: 'db.example.com',
        port: 3307,
        database: 'jobs',
        username: 'abp',
        password: 'p@ss',
        timezone: 'Z',
        poolSize: 10,
      });
      expect(connection.description).toBe('MySQL/MariaDB db.example.com:3307/jobs');
    },
  );

  it('defaults the port to 3306 and reads sslmode', () => {
    expect(parseConnectionString('mysql://u@db/jobs?sslmode=Required').typeorm).toMatchObject({
      port: 3306,
      ssl: { rejectUnauthorized: false },
    });
  });

  it("reads MySqlConnector's form when DatabaseProvider=MySql", () => {
    const connection = parseConnectionString(
      'Server=db.example.com;Port=3307;Database=Jobs;User=abp;Password="p;w";SslMode=VerifyFull;Maximum Pool Size=4;Connection Timeout=9',
      'MySql',
    );
    expect(connection.provider).toBe('mysql');
    expect(connection.typeorm).toMatchObject({
      type: 'mysql',
      host: 'db.example.com',
      port: 3307,
      database: 'Jobs',
      username: 'abp',
      password: 'p;w',
      timezone: 'Z',
      ssl: { rejectUnauthorized: true },
      poolSize: 4,
      connectTimeout: 9000,
    });
  });

  it('takes DatabaseProvider=MariaDb and User Id / Uid spellings too', () => {
    expect(parseConnectionString('Server=db;Database=Jobs;Uid=abp;Pwd=x', 'MariaDb').typeorm).toMatchObject({
      type: 'mysql',
      host: 'db',
      port: 3306,
      username: 'abp',
      password: 'x',
    });
  });

  it('without DatabaseProvider, refuses Server+Port (MySqlConnector form) instead of guessing, and names the setting', () => {
    expect(() => parseConnectionString('Server=db;Port=3306;Database=Jobs;User=abp;Password=secret')).toThrow(
      /has Server and Port, as MySqlConnector's strings do; set DatabaseProvider=MySql/,
    );
    expect(() => parseConnectionString('Server=db;Port=3306;Database=Jobs;User=abp;Password=secret')).not.toThrow(
      /secret/,
    );
  });

  it.each([
    ['no database', 'mysql://u@db', /no database named/],
    ['several hosts', 'Server=a,b;Database=d', /names several hosts/],
    ['a port that is not a number', 'Server=a;Port=x;Database=d', /Port="x" is not a whole number/],
    ['an unknown SslMode', 'Server=a;Database=d;SslMode=Sometimes', /SslMode="Sometimes" is not one of/],
    ['an unknown URL parameter', 'mysql://u@db/d?charset=latin1', /unknown URL parameter "charset"/],
  ])('refuses %s with a clear message', (_what, text, message) => {
    expect(() => parseConnectionString(text, 'MySql')).toThrow(message);
  });
});
