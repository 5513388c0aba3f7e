import { analyzeEscalations } from '../escalation-analysis.js';
import { escalationFigures, FIGURE, lagGrowthNote, roundTrips, type ScenarioRunResult, serviceLogReport, triggerFigures, triggerNotes } from '../scenario-result.js';
import { ServiceStage } from '../service-stage.js';
import { summarizeTriggers } from '../trigger-analysis.js';
import { idleSeconds, type ScenarioContext, START_LEAD_MS } from './context.js';

/*
 * Storm: a burst of alerts offered as fast as the closed-loop clients can send (by default with
 * `Prefer: respond-async`, as integrations send them), on the same one-step flows as the sustained run.
 * Every alert must be paged once; the backlog's drain time is the last page's arrival after the last trigger.
 */
export async function stormRun(context: ScenarioContext): Promise<ScenarioRunResult> {
  const { settings, log } = context;
  const { alerts, maxSeconds, respondAsync } = settings.storm;
  const longestDelayMs = Math.max(...settings.delaysSeconds) * 1000;
  return ServiceStage.run(settings, context.monitor, 'storm', settings.delaysSeconds, async (stage) => {
    const idle = await stage.idleTransactionsPerSecond(idleSeconds(context));
    await stage.beginWindow();
    const startAt = Date.now() + START_LEAD_MS;
    const stopOfferingAt = startAt + maxSeconds * 1000;
    log(`  ${alerts.toLocaleString('en-US')} alerts, ${settings.clients} clients${respondAsync ? ', Prefer: respond-async' : ''} (at most ${maxSeconds} s of sending)`);
    const triggers = await stage.trigger({
      mode: 'closed',
      clients: settings.clients,
      total: alerts,
      stopOfferingAt,
      respondAsync,
      requestTimeoutMs: settings.requestTimeoutMs,
      startAt,
      abandonAt: stopOfferingAt + settings.responseDrainSeconds * 1000,
    });
    const summary = summarizeTriggers(triggers);
    log(`  accepted ${summary.accepted.toLocaleString('en-US')} at ${summary.acceptedPerSecond?.toFixed(0) ?? '–'}/s`);
    const lastTrigger = summary.lastAcceptedAt ?? Date.now();
    const wait = await stage.waitForPages(lastTrigger + longestDelayMs + settings.pageDrainSeconds * 1000, log);
    const window = await stage.endWindow();
    const [pages, facts] = await Promise.all([stage.pages(), stage.database.escalationFacts()]);
    const outcome = analyzeEscalations(facts, pages);
    const notes = [...triggerNotes(summary), ...lagGrowthNote(outcome)];
    if (summary.offered < alerts) notes.push(`stopped offering at the ${maxSeconds} s limit after ${summary.offered.toLocaleString('en-US')} of ${alerts.toLocaleString('en-US')} alerts`);
    if (!wait.settled) notes.push(`pages still missing when the wait ended, ${settings.pageDrainSeconds} s after the last step was due: the drain time is a lower bound`);
    const drain = (at: number | null, from: number | null) => (at !== null && from !== null ? (at - from) / 1000 : null);
    const serviceLog = serviceLogReport(stage.service.log);
    return {
      figures: [
        ...triggerFigures(summary, { fromSchedule: false }),
        ...escalationFigures(outcome),
        { label: FIGURE.drain, value: drain(outcome.lastArrival, summary.lastAcceptedAt), unit: 's' },
        { label: 'last page arrival − last due time', value: drain(outcome.lastArrival, outcome.lastDueAt), unit: 's' },
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
