import { alertDecider } from '../domain/alert/decider.js';
import { alertStreamId } from '../domain/alert/identity.js';
import { commandHandler } from './handle-command.js';

export const handleAlert = commandHandler(alertDecider, alertStreamId, (alert) => (alert.status === 'none' ? null : alert.teamId));
