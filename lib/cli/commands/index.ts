/** Every `phylogeny` command, in the order help lists them. */
import type { Command } from '../command';
import { detectCommand } from './detect';
import { evalCommand } from './eval';
import { infoCommand } from './info';
import { inspectCommand } from './inspect';
import { mergeCommand } from './merge';
import { methodsCommand } from './methods';
import { scanCommand } from './scan';

export const COMMANDS: Command[] = [detectCommand, evalCommand, scanCommand, mergeCommand, inspectCommand, methodsCommand, infoCommand];
