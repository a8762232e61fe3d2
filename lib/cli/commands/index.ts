/** Every `phylogeny` command, in the order help lists them. */
import type { Command } from '../command';
import { infoCommand } from './info';
import { inspectCommand } from './inspect';
import { mergeCommand } from './merge';
import { scanCommand } from './scan';

export const COMMANDS: Command[] = [inspectCommand, scanCommand, mergeCommand, infoCommand];
