import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

/** One operation: its parameters, and what it does for one input item (one output object per result). */
export interface OperationModule {
	description: INodeProperties[];
	execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]>;
}
