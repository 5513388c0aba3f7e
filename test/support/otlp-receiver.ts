import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number; arrayValue?: { values?: AnyValue[] } };

/** A span as an OTLP/HTTP JSON export carries it, with its attributes flattened. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  serviceName: unknown;
}

export interface OtlpReceiver {
  /** Give this as OTEL_EXPORTER_OTLP_ENDPOINT; exports arrive at /v1/traces. */
  url: string;
  spans: ReceivedSpan[];
  /** Every export body as received, to search for what must never leave the process. */
  rawExports: string[];
  /** Exports in OTLP/HTTP protobuf (OpenTelemetry's default protocol), kept as bytes. */
  protobufExports: Buffer[];
  stop(): Promise<void>;
}

const valueOf = (value: AnyValue | undefined): unknown => {
  if (!value) return undefined;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
};

const attributesOf = (attributes: { key: string; value: AnyValue }[] | undefined) =>
  Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, valueOf(value)]));

/** A collector stand-in on loopback: accepts OTLP/HTTP trace exports, keeping the spans of JSON ones and the bytes of protobuf ones. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const rawExports: string[] = [];
  const protobufExports: Buffer[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const text = bytes.toString('utf8');
      if (request.url === '/v1/traces' && request.headers['content-type'] === 'application/x-protobuf') {
        protobufExports.push(bytes);
        // An empty ExportTraceServiceResponse: no partial success to report.
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        return;
      }
      if (request.url !== '/v1/traces' || !/json/.test(request.headers['content-type'] ?? '')) {
        response.writeHead(415).end();
        return;
      }
      rawExports.push(text);
      const body = JSON.parse(text) as {
        resourceSpans?: {
          resource?: { attributes?: { key: string; value: AnyValue }[] };
          scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: { key: string; value: AnyValue }[] }[] }[];
        }[];
      };
      for (const resourceSpans of body.resourceSpans ?? []) {
        const serviceName = attributesOf(resourceSpans.resource?.attributes)['service.name'];
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          for (const span of scopeSpans.spans ?? []) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              name: span.name,
              kind: span.kind,
              attributes: attributesOf(span.attributes),
              serviceName,
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    rawExports,
    protobufExports,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
