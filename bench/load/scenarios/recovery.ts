import { analyzeEscalations } from '../escalation-analysis.js';
import { escalationFigures, FIGURE, lagGrowthNote, roundTrips, type ScenarioRunResult, serviceLogReport, triggerFigures, triggerNotes } from '../scenario-result.js';
import { ServiceStage, sleep } from '../service-stage.js';
import { distribution } from '../stats.js';
import { summarizeTriggers } from '../trigger-analysis.js';
import { idleSeconds, type ScenarioContext, START_LEAD_MS } from './context.js';

/*
 * Recovery: a sustained open-loop run during which the only service process is killed with SIGKILL and started
 * again on the same database and broker names a few seconds later. Triggers sent while it is down fail (the client
 * does not retry); what counts is that every alert the service recorded is paged once, how soon after the restart
 * the steps that fell due meanwhile are paged, and whether every repeated delivery id is a send the kill cut off.
 */
export async function recoveryRun(context: ScenarioContext): Promise<ScenarioRunResult> {
  const { settings, log } = context;
  const { ratePerSecond, seconds, killAtSeconds, downSeconds, drainSeconds } = settings.recovery;
  const longestDelayMs = Math.max(...settings.delaysSeconds) * 1000;
  return ServiceStage.run(settings, context.monitor, 'recovery', settings.delaysSeconds, async (stage) => {
    const idle = await stage.idleTransactionsPerSecond(idleSeconds(context));
    await stage.beginWindow();
    const startAt = Date.now() + START_LEAD_MS;
    log(`  ${ratePerSecond}/s for ${seconds} s, open loop; kill -9 at ${killAtSeconds} s, restart ${downSeconds} s later`);
    const triggering = stage.trigger({
      mode: 'open',
      ratePerSecond,
      seconds,
      connections: settings.openLoopConnections,
      respondAsync: false,
      requestTimeoutMs: settings.requestTimeoutMs,
      startAt,
      abandonAt: startAt + seconds * 1000 + settings.responseDrainSeconds * 1000,
    });
    await sleep(startAt + killAtSeconds * 1000 - Date.now());
    await stage.sampler.sampleNow();
    const killedAt = await stage.service.kill();
    log('  killed the service');
    await sleep(downSeconds * 1000);
    const { spawnedAt, readyAt } = await stage.service.start();
    log(`  restarted; ready ${((readyAt - spawnedAt) / 1000).toFixed(1)} s after the restart`);
    const summary = summarizeTriggers(await triggering);
    const lastAccepted = summary.lastAcceptedAt ?? Date.now();
    const wait = await stage.waitForPages(lastAccepted + longestDelayMs + drainSeconds * 1000, log);
    const window = await stage.endWindow();
    const [pages, facts] = await Promise.all([stage.pages(), stage.database.escalationFacts()]);
    const outcome = analyzeEscalations(facts, pages);

    // Steps that fell due between the kill and the restarted process being ready, timed from the restart
    // (or from their due time when that came after the restart).
    const dueWhileDown = [...facts.scheduled.values()].filter((step) => step.dueAt >= killedAt && step.dueAt <= readyAt);
    const pagedWhileDown = outcome.stepPages.filter((page) => page.dueAt >= killedAt && page.dueAt <= readyAt);
    const lagAfterRestart = distribution(pagedWhileDown.map((page) => page.firstArrival - Math.max(page.dueAt, spawnedAt)));

    const resendDelays: number[] = [];
    let cutOffSendsNotResent = 0;
    for (const deliveryId of facts.outcomeUnknown.keys()) {
      const resend = pages.filter((page) => page.deliveryId === deliveryId && page.receivedAt >= spawnedAt).map((page) => page.receivedAt);
      if (resend.length) resendDelays.push(Math.min(...resend) - spawnedAt);
      else cutOffSendsNotResent++;
    }
    const resent = distribution(resendDelays);

    const notes = [...triggerNotes(summary), ...lagGrowthNote(outcome)];
    if (!wait.settled) notes.push(`pages still missing or sends unresolved when the wait ended, ${drainSeconds} s after the last step was due`);
    if (outcome.deliveryIdsReceivedMoreThanOnce > outcome.repeatsExplainedByCutOffSends) {
      notes.push(
        `${outcome.deliveryIdsReceivedMoreThanOnce - outcome.repeatsExplainedByCutOffSends} delivery ids were received more than once without a recorded cut-off send`,
      );
    }
    const serviceLog = serviceLogReport(stage.service.log);
    return {
      figures: [
        { label: 'down: kill to restart', value: (spawnedAt - killedAt) / 1000, unit: 's' },
        { label: FIGURE.restartToReady, value: (readyAt - spawnedAt) / 1000, unit: 's' },
        ...triggerFigures(summary, { fromSchedule: true }),
        ...escalationFigures(outcome),
        { label: 'steps due between the kill and ready', value: dueWhileDown.length, unit: 'count' },
        { label: '… of them paged', value: pagedWhileDown.length, unit: 'count' },
        { label: '… their page after the restart, p50', value: lagAfterRestart.p50, unit: 'ms' },
        { label: '… their page after the restart, p99', value: lagAfterRestart.p99, unit: 'ms' },
        { label: FIGURE.dueWhileDownAfterRestartMax, value: lagAfterRestart.max, unit: 'ms' },
        { label: FIGURE.cutOffSends, value: outcome.cutOffSends, unit: 'count' },
        { label: FIGURE.cutOffResendMax, value: resent.max, unit: 'ms' },
        { label: FIGURE.cutOffNotResent, value: cutOffSendsNotResent, unit: 'count' },
        { label: FIGURE.repeatsExplained, value: outcome.repeatsExplainedByCutOffSends, unit: 'count' },
        ...serviceLog.figures,
      ],
      resources: window.resources,
      roundTrips: roundTrips(window, facts.alerts.size, facts.events, idle),
      notes: [...notes, ...serviceLog.notes],
      durationSeconds: window.resources.seconds,
    };
  });
}
