import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../test/support/smtp-sink.js';
import { waitFor } from '../../test/support/wait.js';
import { createMailer } from './mailer.js';

describe('mailer', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink?.stop();
  });

  it('is disabled when SMTP_URL is not set', () => {
    expect(createMailer({ smtpUrl: undefined, smtpFrom: 'AlertOps <alertops@localhost>' })).toBeNull();
  });

  it('sends from SMTP_FROM under the Message-ID it is given, text and subject intact', async () => {
    const mailer = createMailer({ smtpUrl: sink.url, smtpFrom: 'AlertOps <pager@alertops.test>' })!;
    const longLine = `Disk ${'full '.repeat(40)}= 100% — très grave`;
    const sent = await mailer.send({
      to: 'oncall@example.com',
      subject: 'Réseau en panne ⚠ on db-1',
      text: `${longLine}\nsecond line`,
      messageId: 'mail-1@alertops',
    });
    mailer.close();

    expect(sent.messageId).toBe('<mail-1@alertops>');
    const mail = await waitFor('the message at the sink', () => sink.messages.find((m) => m.messageId === '<mail-1@alertops>'));
    expect(mail.to).toEqual(['oncall@example.com']);
    expect(mail.from).toBe('pager@alertops.test');
    expect(mail.subject).toBe('Réseau en panne ⚠ on db-1');
    expect(mail.text.trimEnd()).toBe(`${longLine}\nsecond line`);
  });
});
