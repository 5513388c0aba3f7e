import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig } from './config.js';

const base = { NODE_ENV: 'test', JWT_SECRET: 'config-test-secret-long-enough-for-hs256-signing' };

describe('configuration of sessions and proxies', () => {
  it('ends sessions after 90 days and trusts no proxy unless told otherwise', () => {
    const config = loadConfig(base);
    expect(config.sessionMaxDays).toBe(90);
    expect(config.trustProxyHops).toBe(0);
  });

  it.each([
    ['true', 1],
    ['yes', 1],
    ['false', 0],
    ['0', 0],
    ['1', 1],
    ['2', 2],
  ])('reads TRUST_PROXY=%s as %i trusted proxies', (value, hops) => {
    expect(loadConfig({ ...base, TRUST_PROXY: value }).trustProxyHops).toBe(hops);
  });

  it.each([
    ['TRUST_PROXY', 'maybe'],
    ['TRUST_PROXY', '-1'],
    ['TRUST_PROXY', '17'],
    ['SESSION_MAX_DAYS', '0'],
    ['SESSION_MAX_DAYS', '1.5'],
    ['SESSION_MAX_DAYS', 'forever'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(ConfigurationError);
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(name));
  });

  it('reads SESSION_MAX_DAYS', () => {
    expect(loadConfig({ ...base, SESSION_MAX_DAYS: '7' }).sessionMaxDays).toBe(7);
  });
});
