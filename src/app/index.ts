// The application layer's entry for the front ends (src/ui, src/harness, src/cli): the training
// session service, its state and request types, and the CLI ↔ page protocol.

export { TrainingSession, type TrainerInfo, type SessionEvents, type StepProfile, type StepMemory, type WorkProfile, type EvaluateOptions } from './training-session.ts';
export { type EngineStatus, type LostEngine, type DeviceReport } from './engine.ts';
export { type DatasetRequest, type PreparedDataset, type Split } from './dataset-cache.ts';
export { checkpointFileName, readCheckpoint, type ParsedCheckpoint, type Weights } from './checkpoint-io.ts';
export { sampleSteps, SAMPLERS, samplerName, type SamplerName, type SampleRequest, type SampleFrameView, type SampleHooks, type SampleResult } from './sampling.ts';
export { chainTimesteps, type ChainResult } from './noising-chain.ts';
export { scheduleCurves, terminalSignalWarning, MAX_TERMINAL_SIGNAL, SCHEDULE_TYPES, type ScheduleChoice, type ScheduleCurves, type ScheduleType } from './schedules.ts';
export { QUICK_RUN, QUICK_SAMPLING, DEFAULT_TRAIN_SETTINGS, quickRunConfig, type QuickRunOverrides, PRESET_NAMES, presetInfos, presetShape, presetNameOf, configFromSettings, type PresetInfo, type TrainSettings } from './presets.ts';
export {
  noDataset,
  noRun,
  type DatasetState,
  type TrainingState,
  type SamplingState,
  type TrainerSummary,
} from './view-state.ts';
export { imageBatch, errorMessage, type ImageBatch } from './images.ts';
export { imagesToRgbaGrid, imagesToPngGrid } from './png-grid.ts';
export { toBase64, fromBase64, concatBytes } from './transport.ts';
export * from './protocol.ts';
export {
  QualityService,
  type ClassifierInfo,
  type ClassifierTrainOptions,
  type QualityData,
  type QualityReport,
  type QualityResult,
} from './quality-service.ts';
export { CLASSIFIER_FILE } from './site-files.ts';
export { DEFAULT_OPTIMIZER } from '../model/train/trainer.ts';
export { unetForward, type ForwardInput } from './unet-forward.ts';
export { DiffusersError, mapSource, DIFFUSERS_FILES, type FileSource } from './diffusers/files.ts';
export { importDiffusers, exportDiffusers, PIPELINE_CLASSES, type ImportedModel, type ExportOptions } from './diffusers/pipeline.ts';
export { checkpointFromDiffusers, diffusersFromCheckpoint } from './diffusers/checkpoint.ts';
export { folderFromPickedFiles, fetchDiffusersFolder, type PickedFile } from './diffusers/page-files.ts';
export { runOpChecks, CHECKED_OPS, COVER_MODES, type CoverMode, type OpCheckOptions } from './op-checks.ts';
export type { BoundReport } from '../model/diffusion/evaluate.ts';
export { autosaveAvailable, readAutosave, removeAutosave, writeAutosave, type AutosaveInfo, type RunHistory, type QualityPoint, type LrChange } from './autosave.ts';
export type { DispatchCounters } from '../engine/index.ts';
export { trainingFootprint, presetFootprint, footprintMicroBatches, footprintRefusal, type TrainingFootprint } from './footprint.ts';
export { RULES, checkNumber, allowed, ruleWithMax, sentence, type NumberRule, type RuleName, type Checked } from './input-rules.ts';
export { DivergedError, isDivergence, describeDivergence, type Divergence } from './divergence.ts';
