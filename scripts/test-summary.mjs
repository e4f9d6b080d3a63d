// Prints one closing line from vitest's JSON report: "tests: N passed, N failed, N skipped".
// A test file that failed without a failed test (it did not load, or an
// unhandled error was reported against it) counts as one failure.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.data/test-results.json';
if (!existsSync(file)) {
  console.log('tests: 0 passed, 1 failed');
  console.error(`no test report at ${file}`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const brokenFiles = (report.testResults ?? []).filter(
  (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
// Unhandled errors during the run fail it (vitest sets success false) even when every test passed.
const unhandled = report.success === false && report.numFailedTests + brokenFiles === 0 ? 1 : 0;
const failed = report.numFailedTests + brokenFiles + unhandled;
const skipped = report.numPendingTests + (report.numTodoTests ?? 0);
console.log(`tests: ${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || report.numPassedTests === 0 || report.success === false ? 1 : 0);
