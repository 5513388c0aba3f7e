import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, name = 'alertops'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'password', '*.password', 'token', '*.token', 'refreshToken', '*.refreshToken', 'accessToken', '*.accessToken',
        'req.headers.authorization', 'req.headers.cookie', 'headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}
