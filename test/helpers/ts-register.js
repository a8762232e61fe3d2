// Lets a child process `require` the TypeScript sources (tests that must kill a real process):
// each .ts file is transpiled with TypeScript's own transpileModule, no type checking.
const fs = require('fs');
const ts = require('typescript');
require.extensions['.ts'] = function (module, filename) {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(out.outputText, filename);
};
