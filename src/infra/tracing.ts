import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type TracerProvider,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Logger } from './logger.js';

/** The OTLP/HTTP export as the standard OTEL_* variables describe it; null: no SDK, the API's no-op tracer. */
export interface TracingSettings {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  tracesUrl: string;
  /** OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, http/protobuf unless set. */
  protocol: 'http/protobuf' | 'http/json';
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES as given (key=value,...). */
  resourceAttributes: string | undefined;
  sampler: 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';
  samplerRatio: number;
  /** OTEL_BSP_SCHEDULE_DELAY: how long finished spans wait to be exported together. */
  exportDelayMs: number;
}

/** Span attribute names of the engine's ids (never tokens, keys, addresses or secrets). */
export const SpanAttribute = {
  alertId: 'alertops.alert.id',
  teamId: 'alertops.team.id',
  step: 'alertops.step',
  loop: 'alertops.loop',
  epoch: 'alertops.epoch',
  deliveryId: 'alertops.delivery.id',
  attempt: 'alertops.attempt',
  channel: 'alertops.channel',
} as const;

const traceContext = new W3CTraceContextPropagator();

/** The running SDK: how to flush and stop it. */
interface TracerProviderHandle extends TracerProvider {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

let provider: TracerProviderHandle | null = null;
let starting: Promise<TracerProviderHandle> | null = null;
let users = 0;
/** What the helpers below hand out while no SDK runs: no span, no context switch, no headers. */
const noSpan = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
const noHeaders: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * Starts the SDK for this process (once, however many runtimes share it) and returns how to stop it; spans still
 * buffered are exported on stop. Without settings the SDK is not even loaded: every span below is skipped.
 */
export async function startTracing(settings: TracingSettings | null, logger: Logger): Promise<() => Promise<void>> {
  if (!settings) return async () => undefined;
  if (!starting) {
    starting = import('./tracing-sdk.js').then(({ startTracerProvider }) => startTracerProvider(settings, traceContext));
    logger.info({ endpoint: settings.tracesUrl, sampler: settings.sampler }, 'exporting traces over OTLP/HTTP');
  }
  users++;
  const started = await starting;
  provider = started;
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    users--;
    if (users > 0) {
      await started.forceFlush();
      return;
    }
    provider = null;
    starting = null;
    await started.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  };
}

async function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes, parent: Context, work: (span: Span) => Promise<T>): Promise<T> {
  if (!provider) return work(noSpan);
  // From the provider itself: a tracer taken from the global API once would stay bound to the first provider of the process.
  return provider.getTracer('alertops').startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A step of work inside the current trace. */
export function traced<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>, kind = SpanKind.INTERNAL): Promise<T> {
  return inSpan(name, kind, attributes, context.active(), work);
}

/** Serves a request, continuing the caller's trace when its headers carry one. */
export function serveTraced<T>(name: string, headers: Record<string, unknown>, work: (span: Span) => Promise<T>): Promise<T> {
  if (!provider) return work(noSpan);
  return inSpan(name, SpanKind.SERVER, {}, propagation.extract(ROOT_CONTEXT, headers), work);
}

/** Handles a broker message in the trace its headers carry (set where it was published). */
export function consumeTraced<T>(name: string, headers: Record<string, unknown> | undefined, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  if (!provider) return work(noSpan);
  return inSpan(name, SpanKind.CONSUMER, attributes, propagation.extract(ROOT_CONTEXT, headers ?? {}), work);
}

/** Runs `work` in the trace a `traceparent` names (kept in an event's metadata), or in the current one without it. */
export function inTraceOf<T>(traceparent: string | undefined, work: () => T): T {
  if (traceparent === undefined || !provider) return work();
  return context.with(traceContext.extract(ROOT_CONTEXT, { traceparent }, headerGetter), work);
}

/** `work` bound to the current trace, for a queue that runs it later from whatever context is current then. */
export function inCurrentTrace<A extends unknown[], R>(work: (...args: A) => R): (...args: A) => R {
  if (!provider) return work;
  return context.bind(context.active(), work);
}

const headerGetter = {
  get: (carrier: Record<string, string>, key: string) => carrier[key],
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
};

/** The `traceparent` (and `tracestate`) headers of the current span, for a message or request leaving the process. */
export function traceHeaders(): Record<string, string> {
  if (!provider) return noHeaders;
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

/** The current span's `traceparent` when its trace is being recorded; what an append keeps in the event's metadata. */
export function currentTraceparent(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || (spanContext.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  return traceHeaders().traceparent;
}

export { type Attributes, SpanKind, SpanStatusCode };
