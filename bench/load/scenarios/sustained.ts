import { analyzeEscalations } from '../escalation-analysis.js';
import { escalationFigures, lagGrowthNote, roundTrips, type ScenarioRunResult, serviceLogReport, triggerFigures, triggerNotes } from '../scenario-result.js';
import { ServiceStage } from '../service-stage.js';
import { summarizeTriggers } from '../trigger-analysis.js';
import { idleSeconds, type ScenarioContext, START_LEAD_MS } from './context.js';

/*
 * Sustained escalation: alerts offered open-loop at a fixed rate (sent on schedule whatever the answers) on
 * one-step webhook flows, one flow per delay, alerts spread across them; every page is timed against its due time.
 */
export async function sustainedRun(context: ScenarioContext): Promise<ScenarioRunResult> {
  const { settings, log } = context;
  const { ratePerSecond, seconds } = settings.sustained;
  const longestDelayMs = Math.max(...settings.delaysSeconds) * 1000;
  return ServiceStage.run(settings, context.monitor, 'sustained', settings.delaysSeconds, async (stage) => {
    const idle = await stage.idleTransactionsPerSecond(idleSeconds(context));
    await stage.beginWindow();
    const startAt = Date.now() + START_LEAD_MS;
    const offeringEndsAt = startAt + seconds * 1000;
    log(`  ${ratePerSecond}/s for ${seconds} s, open loop, delays ${settings.delaysSeconds[0]}–${settings.delaysSeconds.at(-1)} s`);
    const triggers = await stage.trigger({
      mode: 'open',
      ratePerSecond,
      seconds,
      connections: settings.openLoopConnections,
      respondAsync: false,
      requestTimeoutMs: settings.requestTimeoutMs,
      startAt,
      abandonAt: offeringEndsAt + settings.responseDrainSeconds * 1000,
    });
    const summary = summarizeTriggers(triggers);
    log(`  accepted ${summary.accepted.toLocaleString('en-US')} of ${summary.offered.toLocaleString('en-US')}, response p99 ${summary.latencyMs.p99 ?? '–'} ms`);
    const lastAccepted = summary.lastAcceptedAt ?? Date.now();
    const wait = await stage.waitForPages(lastAccepted + longestDelayMs + settings.pageDrainSeconds * 1000, log);
    const window = await stage.endWindow();
    const [pages, facts] = await Promise.all([stage.pages(), stage.database.escalationFacts()]);
    const outcome = analyzeEscalations(facts, pages);
    const notes = [...triggerNotes(summary), ...lagGrowthNote(outcome)];
    if (!wait.settled) notes.push(`pages still missing when the wait ended, ${settings.pageDrainSeconds} s after the last step was due`);
    const serviceLog = serviceLogReport(stage.service.log);
    return {
      figures: [
        ...triggerFigures(summary, { fromSchedule: true }),
        ...escalationFigures(outcome),
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
