import { BatchedLines } from './batched-stdout';

describe('BatchedLines', () => {
  const setup = () => {
    const writes: string[] = [];
    return { writes, lines: new BatchedLines({ write: (text: string) => writes.push(text) }) };
  };

  it('joins the lines of one burst into one write, made before the next macrotask', async () => {
    const { writes, lines } = setup();
    lines.write('a\n');
    lines.write('b\n');
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['a\nb\n']);
  });

  it('writes lines logged by concurrently running async work before any later timer or I/O callback', async () => {
    const { writes, lines } = setup();
    const job = async (n: number) => {
      await Promise.resolve();
      lines.write(`job ${n}\n`);
      await Promise.resolve();
    };
    const seenByNextMacrotask = new Promise<string[]>((resolve) => setImmediate(() => resolve([...writes])));
    await Promise.all([job(1), job(2), job(3)]);
    expect((await seenByNextMacrotask).join('')).toBe('job 1\njob 2\njob 3\n');
  });

  it('starts a new write for lines of a later burst, and flush() writes what is pending at once', async () => {
    const { writes, lines } = setup();
    lines.write('first\n');
    await new Promise((resolve) => setImmediate(resolve));
    lines.write('second\n');
    lines.flush();
    expect(writes).toEqual(['first\n', 'second\n']);
    lines.flush();
    expect(writes).toHaveLength(2);
  });
});
