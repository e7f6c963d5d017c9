import { defineConfig } from 'vitest/config';

// Two groups: `unit` needs nothing but Node; `integration` (*.redis.test.ts, *.kafka.test.ts,
// *.services.test.ts) needs the real Redis and Kafka that `npm run services:up` starts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.{redis,kafka,services}.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.{redis,kafka,services}.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
