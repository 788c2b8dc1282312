import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';

/**
 * The public methods a class declares, read from its source with the TypeScript compiler (at run
 * time a private method is on the prototype like any other).
 */
export function publicMethodsOf(sourceFile: string, className: string): string[] {
  const path = join(__dirname, '..', '..', '..', sourceFile);
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const declaration = source.statements.find(
    (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === className,
  );
  if (!declaration) throw new Error(`No class ${className} in ${sourceFile}`);
  const hidden = [ts.SyntaxKind.PrivateKeyword, ts.SyntaxKind.ProtectedKeyword, ts.SyntaxKind.StaticKeyword];
  return declaration.members
    .filter((m): m is ts.MethodDeclaration => ts.isMethodDeclaration(m))
    .filter((m) => !(ts.getModifiers(m) ?? []).some((modifier) => hidden.includes(modifier.kind)))
    .filter((m) => !ts.isPrivateIdentifier(m.name))
    .map((m) => m.name.getText(source))
    .sort();
}
