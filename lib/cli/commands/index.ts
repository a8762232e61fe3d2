/** Every `phylogeny` command, in the order help lists them. */
import type { Command } from '../command';
import { demoCommand } from './demo';
import { detectCommand } from './detect';
import { evalCommand } from './eval';
import { infoCommand } from './info';
import { inspectCommand } from './inspect';
import { mergeCommand } from './merge';
import { methodsCommand } from './methods';
import { scanCommand } from './scan';
import { trainCommand } from './train';
import { zooCommand } from './zoo';

export const COMMANDS: Command[] = [demoCommand, detectCommand, evalCommand, scanCommand, mergeCommand, zooCommand, trainCommand, inspectCommand, methodsCommand, infoCommand];
