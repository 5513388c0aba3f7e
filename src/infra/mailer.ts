import nodemailer from 'nodemailer';
import type { Config } from '../config.js';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** Message-ID to send under (with or without angle brackets); a stable one lets receivers drop a resend. */
  messageId?: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): void;
}

/** The SMTP client configured by SMTP_URL / SMTP_FROM; null when SMTP_URL is unset (e-mail disabled). */
export function createMailer(config: Pick<Config, 'smtpUrl' | 'smtpFrom'>): Mailer | null {
  if (!config.smtpUrl) return null;
  const transport = nodemailer.createTransport(config.smtpUrl);
  return {
    async send(mail) {
      const info = await transport.sendMail({
        from: config.smtpFrom,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.messageId ? { messageId: withAngleBrackets(mail.messageId) } : {}),
      });
      return { messageId: info.messageId };
    },
    close() {
      transport.close();
    },
  };
}

function withAngleBrackets(messageId: string): string {
  return messageId.startsWith('<') ? messageId : `<${messageId}>`;
}
