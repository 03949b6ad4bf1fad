/**
 * Runs the TypeScript compiler on test/types/call.types.ts: it must compile cleanly, and with its
 * `// @ts-expect-error` directives blanked out (in memory) each marked line must fail on its own.
 * The second half proves the type test can fail, so a type that lets everything through
 * (e.g. args: unknown[]) cannot pass it.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const typeTest = path.join(root, 'test', 'types', 'call.types.ts');
const DIRECTIVE = /^\s*\/\/\s*@ts-expect-error\b/;

function compilerOptions(): ts.CompilerOptions {
  const configPath = path.join(root, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, configPath);
  return { ...parsed.options, noEmit: true };
}

/** Compiles the type test, with its text replaced by `source` when given; returns all diagnostics. */
function compile(options: ts.CompilerOptions, source?: string, oldProgram?: ts.Program): ts.Program {
  const host = ts.createCompilerHost(options, true);
  if (source !== undefined) {
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) =>
      path.resolve(fileName) === typeTest
        ? ts.createSourceFile(fileName, source, languageVersion, true)
        : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  }
  return ts.createProgram({ rootNames: [typeTest], options, host, oldProgram });
}

function describeDiagnostic(d: ts.Diagnostic): string {
  const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  if (!d.file || d.start === undefined) return `TS${d.code}: ${text}`;
  const { line } = d.file.getLineAndCharacterOfPosition(d.start);
  return `${path.relative(root, d.file.fileName)}:${line + 1} TS${d.code}: ${text}`;
}

describe('test/types/call.types.ts (TaskClient.call() typing)', () => {
  let options: ts.CompilerOptions;
  let program: ts.Program;
  let lines: string[];

  beforeAll(() => {
    options = compilerOptions();
    program = compile(options);
    lines = ts.sys.readFile(typeTest)!.split('\n');
  });

  it('compiles with the root tsconfig without a single diagnostic', () => {
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...ts.getPreEmitDiagnostics(program),
    ];
    expect(diagnostics.map(describeDiagnostic)).toEqual([]);
  });

  it('has the expected-error directives it is meant to have', () => {
    expect(lines.filter((l) => DIRECTIVE.test(l)).length).toBeGreaterThanOrEqual(15);
  });

  it('fails on exactly the line after each directive, once, when the directives are removed', () => {
    const expectedLines: number[] = []; // 1-based lines that must now fail
    const stripped = lines.map((line, i) => {
      if (!DIRECTIVE.test(line)) return line;
      expectedLines.push(i + 2);
      return ''; // keep the line count, so diagnostics keep their line numbers
    });
    const after = compile(options, stripped.join('\n'), program);
    const diagnostics = ts.getPreEmitDiagnostics(after);

    const elsewhere = diagnostics.filter((d) => !d.file || path.resolve(d.file.fileName) !== typeTest);
    expect(elsewhere.map(describeDiagnostic)).toEqual([]);

    const errorsPerLine = new Map<number, string[]>();
    for (const d of diagnostics) {
      if (!d.file || d.start === undefined || path.resolve(d.file.fileName) !== typeTest) continue;
      const line = d.file.getLineAndCharacterOfPosition(d.start).line + 1;
      errorsPerLine.set(line, [...(errorsPerLine.get(line) ?? []), describeDiagnostic(d)]);
    }
    // First the readable report (which line compiles that must not, which errors are extra), then the counts.
    const actual = [...errorsPerLine.entries()]
      .sort(([a], [b]) => a - b)
      .map(([line, errs]) => `${line}: ${errs.length} error(s)`);
    const expected = expectedLines.map((line) => `${line}: 1 error(s)`);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      const silent = expectedLines
        .filter((l) => !errorsPerLine.has(l))
        .map((l) => `line ${l} compiles but must not: ${lines[l - 1]?.trim()}`);
      const extra = [...errorsPerLine.entries()]
        .filter(([l, e]) => !expectedLines.includes(l) || e.length > 1)
        .flatMap(([, e]) => e);
      expect({ silent, extra }).toEqual({ silent: [], extra: [] });
    }
    expect(actual).toEqual(expected);
  });
});
