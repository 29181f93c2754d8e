// Firmware files the in-tree QAT PF drivers request per family (ADF_*_FW / ADF_*_MMP in adf_<family>_hw_data.h).

import type { FamilyName } from './catalogue.js';

/** 401xx devices load the 4xxx images; 402xx has its own. */
export const FIRMWARE_FILES: Readonly<Record<FamilyName, readonly string[]>> = Object.freeze({
  '4xxx': ['qat_4xxx.bin', 'qat_4xxx_mmp.bin'],
  '401xx': ['qat_4xxx.bin', 'qat_4xxx_mmp.bin'],
  '402xx': ['qat_402xx.bin', 'qat_402xx_mmp.bin'],
  '420xx': ['qat_420xx.bin', 'qat_420xx_mmp.bin'],
  '6xxx': ['qat_6xxx.bin', 'qat_6xxx_mmp.bin'],
});

/** The kernel's firmware loader also accepts these compressed forms (CONFIG_FW_LOADER_COMPRESS). */
export const FIRMWARE_SUFFIXES = ['', '.xz', '.zst'] as const;
