// Every error fullconv throws on purpose extends FullconvError (API.md, "Errors").

export class FullconvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Ranks, sizes, channels, groups, a kernel larger than the padded input. */
export class ShapeError extends FullconvError {}

/** Bad or unknown option names and values. */
export class OptionError extends FullconvError {}

/** Use of a disposed tensor or engine, or a tensor of another engine. */
export class TensorStateError extends FullconvError {}

/** A tensor or op output over the device's limits; thrown before anything is allocated. */
export class LimitError extends FullconvError {}

/** The GPU device was lost; every later call throws this. */
export class DeviceLostError extends FullconvError {}
