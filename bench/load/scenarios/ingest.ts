import { ServiceStage, sleep } from '../service-stage.js';
import { FIGURE, type Figure, roundTrips, type ScenarioRunResult, serviceLogReport, triggerFigures, triggerNotes } from '../scenario-result.js';
import { summarizeTriggers } from '../trigger-analysis.js';
import { idleSeconds, type ScenarioContext, START_LEAD_MS } from './context.js';

/*
 * Ingest: N closed-loop clients trigger alerts as fast as the service answers, with read-your-writes (the default)
 * or `Prefer: respond-async`. The flows' only step is due much later, so nothing fires during the run: this
 * measures the trigger path with the projections and the relay working behind it. With respond-async it is also
 * the storm of long-delay alerts whose resident memory is reported with every alert in flight.
 */
export async function ingestRun(context: ScenarioContext, { respondAsync }: { respondAsync: boolean }): Promise<ScenarioRunResult> {
  const { settings, log } = context;
  const { triggers: total, maxSeconds, delaySeconds, inFlightSettleSeconds } = settings.ingest;
  return ServiceStage.run(settings, context.monitor, respondAsync ? 'ingest_async' : 'ingest', [delaySeconds], async (stage) => {
    const idle = await stage.idleTransactionsPerSecond(idleSeconds(context));
    await stage.beginWindow();
    const startAt = Date.now() + START_LEAD_MS;
    const stopOfferingAt = startAt + maxSeconds * 1000;
    log(`  ${total.toLocaleString('en-US')} triggers, ${settings.clients} clients${respondAsync ? ', Prefer: respond-async' : ''} (at most ${maxSeconds} s)`);
    const triggers = await stage.trigger({
      mode: 'closed',
      clients: settings.clients,
      total,
      stopOfferingAt,
      respondAsync,
      requestTimeoutMs: settings.requestTimeoutMs,
      startAt,
      abandonAt: stopOfferingAt + settings.responseDrainSeconds * 1000,
    });
    const summary = summarizeTriggers(triggers);
    const notes = triggerNotes(summary);
    if (summary.offered < total) {
      notes.push(`stopped offering at the ${maxSeconds} s limit after ${summary.offered.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} triggers`);
    }
    log(`  accepted ${summary.accepted.toLocaleString('en-US')} at ${summary.acceptedPerSecond?.toFixed(0) ?? '–'}/s, p99 ${summary.latencyMs.p99 ?? '–'} ms`);

    const memory: Figure[] = [];
    if (respondAsync) {
      await sleep(inFlightSettleSeconds * 1000);
      const facts = await stage.database.escalationFacts();
      const inFlight = facts.scheduled.size - facts.fired.size;
      memory.push(
        { label: FIGURE.inFlight, value: inFlight, unit: 'count' },
        { label: FIGURE.inFlightRss, value: stage.sampler.serviceRssMiB(), unit: 'MiB' },
      );
    }
    const window = await stage.endWindow();
    const facts = await stage.database.escalationFacts();
    const serviceLog = serviceLogReport(stage.service.log);
    return {
      figures: [
        ...triggerFigures(summary, { fromSchedule: false }),
        ...memory,
        { label: 'service peak resident memory', value: window.resources.servicePeakRssMiB, unit: 'MiB' },
        ...serviceLog.figures,
      ],
      resources: window.resources,
      roundTrips: roundTrips(window, facts.alerts.size, facts.events, idle),
      notes: [...notes, ...serviceLog.notes],
      durationSeconds: window.resources.seconds,
    };
  });
}
