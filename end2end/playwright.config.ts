import { defineConfig } from '@playwright/test';

// System Chromium only: browsers are never downloaded on these machines.
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  // Benchmarks print numbers instead of checking behaviour: scripts/bench.sh runs them.
  grep: process.env.FF_BENCH ? /@bench/ : undefined,
  grepInvert: process.env.FF_BENCH ? undefined : /@bench/,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.FF_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
