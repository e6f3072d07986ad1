/** `node bench/dist/phold-r.js --lps N --per M --events E --seed S`: one JSON line. */
import { pholdMain, pholdREngine } from "./phold-model.js";

pholdMain(pholdREngine);
