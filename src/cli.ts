import 'reflect-metadata';
import { openCliServices } from './cli/cli-app';
import { runJobsCli } from './cli/jobs-cli';

/** `npm run jobs -- <command>` (= `node dist/cli.js <command>`): see src/cli/jobs-cli.ts. */
void runJobsCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text),
  open: openCliServices,
}).then(
  (code) => exitOnceWritten(code),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    exitOnceWritten(1);
  },
);

/** Exits once stdout and stderr have handed everything to the OS (writes to a pipe are asynchronous). */
function exitOnceWritten(code: number): void {
  let pending = 2;
  const done = () => --pending === 0 && process.exit(code);
  process.stdout.write('', done);
  process.stderr.write('', done);
}
