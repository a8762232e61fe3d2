/** The package version, read from package.json wherever the code runs from (lib/ or dist/lib/). */
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from './native';

export const VERSION: string = (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
