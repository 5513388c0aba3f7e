import pino from 'pino';

export type Logger = pino.Logger;

/** `destination` defaults to stdout; tests pass a stream to read what the service logs. */
export function createLogger(level: string, name = 'alertops', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: {
      paths: [
        'password', '*.password', 'currentPassword', '*.currentPassword', 'newPassword', '*.newPassword', 'token', '*.token', 'refreshToken', '*.refreshToken', 'accessToken', '*.accessToken',
        'req.headers.authorization', 'req.headers.cookie', 'headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
