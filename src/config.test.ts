import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig } from './config.js';

const longEnough = (name: string) => `${name}-for-config-tests-long-enough-to-use`;

describe('configuration defaults', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'alertops-config-'));
  });
  afterEach(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });

  const relaxed = (env: Record<string, string>) => loadConfig({ STATE_DIR: stateDir, ...env }).relaxedSettings.map((entry) => entry.setting);

  it('production refuses to start without JWT_SECRET and WEBHOOK_SIGNING_KEY, naming both', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', STATE_DIR: stateDir })).toThrow(
      /JWT_SECRET: required when NODE_ENV=production\n {2}WEBHOOK_SIGNING_KEY: required when NODE_ENV=production/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: longEnough('jwt'), WEBHOOK_SIGNING_KEY: 'short' })).toThrow(
      /WEBHOOK_SIGNING_KEY: WEBHOOK_SIGNING_KEY must be at least 32 characters/,
    );
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('production allows public webhook targets only, and relaxes nothing', () => {
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: longEnough('jwt'), WEBHOOK_SIGNING_KEY: longEnough('key') });
    expect(config).toMatchObject({ webhookAllowPrivate: false, webhookAllowLoopback: false, relaxedSettings: [] });
  });

  it('development (the default) allows loopback webhooks only, keeps generated secrets on disk, and says so for each', () => {
    const first = loadConfig({ STATE_DIR: stateDir });
    const second = loadConfig({ STATE_DIR: stateDir });

    expect(first).toMatchObject({ nodeEnv: 'development', webhookAllowPrivate: false, webhookAllowLoopback: true });
    expect(first.relaxedSettings.map((entry) => entry.setting)).toEqual(['NODE_ENV', 'JWT_SECRET', 'WEBHOOK_SIGNING_KEY', 'WEBHOOK_ALLOW_LOOPBACK']);
    expect(first.relaxedSettings.every((entry) => entry.warning.length > 20)).toBe(true);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    expect(second.webhookSigningKey).toBe(first.webhookSigningKey);
    expect(first.webhookSigningKey).not.toBe(first.jwtSecret);
    expect(readFileSync(join(stateDir, 'webhook-signing-key'), 'utf8')).toBe(first.webhookSigningKey);
  });

  it('tests get secrets for the process only: nothing is written, and each load gets its own', () => {
    const first = loadConfig({ NODE_ENV: 'test', STATE_DIR: stateDir });
    const second = loadConfig({ NODE_ENV: 'test', STATE_DIR: stateDir });

    expect(first.jwtSecret).not.toBe(second.jwtSecret);
    expect(first.webhookSigningKey).not.toBe(second.webhookSigningKey);
    expect(first.webhookSigningKey.length).toBeGreaterThanOrEqual(32);
    expect(readdirSync(stateDir)).toEqual([]);
    expect(first.relaxedSettings.map((entry) => entry.setting)).toEqual(['JWT_SECRET', 'WEBHOOK_SIGNING_KEY', 'WEBHOOK_ALLOW_LOOPBACK']);
  });

  it('every non-public network is allowed only by WEBHOOK_ALLOW_PRIVATE=true, with a warning; loopback can be refused in development', () => {
    const secrets = { JWT_SECRET: longEnough('jwt'), WEBHOOK_SIGNING_KEY: longEnough('key') };
    expect(loadConfig({ NODE_ENV: 'development', WEBHOOK_ALLOW_PRIVATE: 'true', ...secrets })).toMatchObject({ webhookAllowPrivate: true });
    expect(relaxed({ NODE_ENV: 'development', WEBHOOK_ALLOW_PRIVATE: 'true', ...secrets })).toEqual(['WEBHOOK_ALLOW_PRIVATE']);
    expect(relaxed({ NODE_ENV: 'production', WEBHOOK_ALLOW_LOOPBACK: 'true', ...secrets })).toEqual(['WEBHOOK_ALLOW_LOOPBACK']);
    expect(loadConfig({ NODE_ENV: 'development', WEBHOOK_ALLOW_LOOPBACK: 'false', ...secrets })).toMatchObject({
      webhookAllowPrivate: false,
      webhookAllowLoopback: false,
      relaxedSettings: [],
    });
  });

  it('an event log kept in memory is refused in production and named in a warning elsewhere', () => {
    const secrets = { JWT_SECRET: longEnough('jwt'), WEBHOOK_SIGNING_KEY: longEnough('key') };
    expect(() => loadConfig({ NODE_ENV: 'production', EVENT_STORE: 'memory', ...secrets })).toThrow(/EVENT_STORE: memory .* not allowed when NODE_ENV=production/);
    expect(relaxed({ NODE_ENV: 'test', EVENT_STORE: 'memory', WEBHOOK_ALLOW_LOOPBACK: 'false', ...secrets })).toEqual(['EVENT_STORE']);
  });
});


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

  it('links pages to the listening address, valid for 24 hours, unless told otherwise', () => {
    const config = loadConfig(base);
    expect(config.publicUrl).toBeNull();
    expect(config.actionLinkTtlHours).toBe(24);
    const told = loadConfig({ ...base, PUBLIC_URL: 'https://alertops.example.com/', ACTION_LINK_TTL_HOURS: '0.5' });
    expect(told.publicUrl).toBe('https://alertops.example.com');
    expect(told.actionLinkTtlHours).toBe(0.5);
  });

  it.each([
    ['PUBLIC_URL', 'alertops.example.com'],
    ['PUBLIC_URL', 'ftp://alertops.example.com'],
    ['PUBLIC_URL', 'https://alertops.example.com/?x=1'],
    ['ACTION_LINK_TTL_HOURS', '0'],
    ['ACTION_LINK_TTL_HOURS', '-1'],
    ['ACTION_LINK_TTL_HOURS', 'a day'],
    ['ACTION_LINK_TTL_HOURS', '1000'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(`${name}:`));
  });

  it('reads SESSION_MAX_DAYS', () => {
    expect(loadConfig({ ...base, SESSION_MAX_DAYS: '7' }).sessionMaxDays).toBe(7);
  });
});

describe('telemetry settings', () => {
  const base = { NODE_ENV: 'test' };

  it('starts no tracing without an OTLP endpoint, or with OTEL_SDK_DISABLED', () => {
    expect(loadConfig(base).tracing).toBeNull();
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toBeNull();
  });

  it('exports to <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces, or to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given', () => {
    const tracing = loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing;
    expect(tracing).toMatchObject({ tracesUrl: 'http://collector:4318/v1/traces', serviceName: 'alertops', sampler: 'parentbased_always_on', samplerRatio: 1 });
    const specific = loadConfig({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/otlp',
      OTEL_SERVICE_NAME: 'alertops-eu',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    }).tracing;
    expect(specific).toMatchObject({ tracesUrl: 'https://traces.example.com/otlp', serviceName: 'alertops-eu', sampler: 'parentbased_traceidratio', samplerRatio: 0.1 });
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_TRACES_SAMPLER', 'sometimes'],
    ['OTEL_TRACES_SAMPLER_ARG', '2'],
    ['METRICS_TOKEN', 'short'],
    ['METRICS_TOKEN', 'a token with spaces in it'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', [name]: value })).toThrow(new RegExp(`${name}:`));
  });

  it('reads METRICS_TOKEN', () => {
    expect(loadConfig(base).metricsToken).toBeNull();
    expect(loadConfig({ ...base, METRICS_TOKEN: 'scrape-token-0123456789' }).metricsToken).toBe('scrape-token-0123456789');
  });
});
