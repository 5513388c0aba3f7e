import nodemailer from 'nodemailer';

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

export interface SmtpSettings {
  /** Unset: e-mail is disabled. */
  smtpUrl: string | undefined;
  smtpFrom: string;
}

/** The SMTP client configured by SMTP_URL / SMTP_FROM; null when SMTP_URL is unset (e-mail disabled). */
export function createMailer(config: SmtpSettings): Mailer | null {
  if (!config.smtpUrl) return null;
  // Bounded well inside the notification attempt lease, so a hung server never outlives the attempt it serves.
  const transport = nodemailer.createTransport({
    url: config.smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 15_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
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
