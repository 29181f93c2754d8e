import './prof.mjs';
