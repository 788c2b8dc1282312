// tsc mirrors the tree (dist/src, dist/libs); the documented entrypoints are dist/main.*.js.
const { writeFileSync } = require('node:fs');
for (const name of ['main.web', 'main.worker', 'migrate', 'cli']) {
  writeFileSync(`dist/${name}.js`, `require('./src/${name}');\n`);
}
