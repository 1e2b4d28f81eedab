import { type Program } from '@comsg/libcoproc';
export interface ClocksOptions {
    /** Serve through the slow (kernel) path, like `clocks -k`. */
    readonly slow?: boolean;
}
export declare function clocks(child: Program, options?: ClocksOptions): Program;
