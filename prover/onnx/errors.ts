/** Why an ONNX import was refused. The message names the ONNX node (name and op type) at fault. */
import { CodedError } from '../../precompiles/errors.ts';

export type OnnxImportErrorCode =
  | 'BAD_ONNX' // the bytes are not an ONNX model
  | 'BAD_TENSOR' // a constant's dimensions and data disagree
  | 'UNSUPPORTED_TENSOR' // a data type or storage the importer does not read
  | 'UNSUPPORTED_OP' // an operator with no mapping
  | 'UNSUPPORTED_ATTR' // a mapped operator with an attribute value the format cannot express
  | 'UNSUPPORTED_GRAPH' // a shape of graph the format cannot express (branches, two inputs, ...)
  | 'BAD_SAMPLES' // calibration or evaluation data that does not fit the model
  | 'QUANTIZATION' // a value that no power-of-two scale fits into the format's ranges
  | 'LOWERING_MISMATCH' // the importer's float reading of the graph disagrees with onnxruntime
  | 'ACCURACY'; // top-1 agreement below the threshold the caller asked for

export class OnnxImportError extends CodedError<OnnxImportErrorCode> {
  constructor(
    override readonly code: OnnxImportErrorCode,
    message: string,
    readonly node?: { readonly name: string; readonly opType: string },
  ) {
    super(node ? `node '${node.name}' (${node.opType}): ${message}` : message);
  }
}
