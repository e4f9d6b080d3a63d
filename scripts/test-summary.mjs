// Prints one closing line from vitest's JSON report: "tests: N passed, N failed, N skipped".
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.data/test-results.json';
if (!existsSync(file)) {
  console.log('tests: 0 passed, 1 failed');
  console.error(`no test report at ${file}`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const failed = report.numFailedTests + (report.numFailedTestSuites ?? 0) - countSuitesWithFailedTests(report);
const skipped = report.numPendingTests + (report.numTodoTests ?? 0);
console.log(`tests: ${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || report.numPassedTests === 0 ? 1 : 0);

// A suite that failed to load counts as a failure even with no test in it.
function countSuitesWithFailedTests(r) {
  return (r.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).some((a) => a.status === 'failed')).length;
}
