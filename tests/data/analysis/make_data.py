#!/usr/bin/env python3
"""Writes the small deterministic test data of tests/analysis (trial.csv,
cohort.csv, meta.csv). Run from this folder; R (tests/reference/
analysis_reference.R) and the Catch2 tests read the same files."""
import math
import random

rng = random.Random(20261122)
rows = []
for i in range(1, 41):
    arm = "intervention" if i % 2 == 1 else "control"
    treat = 1 if arm == "intervention" else 0
    sex = "female" if rng.random() < 0.6 else "male"
    age = round(rng.uniform(25, 65), 1)
    il6_b = round(math.exp(rng.gauss(0.8, 0.5)), 2)
    il6_w = round(max(0.05, il6_b + rng.gauss(-0.6 * treat, 0.6)), 2)
    crp_b = round(math.exp(rng.gauss(0.5, 0.6)), 2)
    crp_w = round(max(0.05, crp_b + rng.gauss(-0.4 * treat, 0.5)), 2)
    pain_b = rng.randint(4, 9)
    dpain = -1.5 * treat + 0.9 * (il6_w - il6_b) + rng.gauss(0, 1.2)
    pain_w = min(10, max(0, round(pain_b + dpain)))
    pcs_b = round(rng.gauss(38, 6), 1)
    pcs_w = round(pcs_b + 4 * treat - 1.5 * (il6_w - il6_b) + rng.gauss(0, 4), 1)
    rows.append([f"T{i:03d}", arm, sex, age, il6_b, il6_w, crp_b, crp_w, pain_b, pain_w, pcs_b, pcs_w])
rows[3][5] = "<0.15"
rows[10][5] = "<0.15"
rows[17][4] = "<0.15"
rows[25][11] = ""
with open("trial.csv", "w") as f:
    f.write("id,arm,sex,age_years,il6_baseline,il6_week12,crp_baseline,crp_week12,"
            "pain_nrs_baseline,pain_nrs_week12,pcs_baseline,pcs_week12\n")
    for r in rows:
        f.write(",".join(str(x) for x in r) + "\n")

rows = []
site_eff = [rng.gauss(0, 0.4) for _ in range(6)]
for i in range(1, 401):
    site = f"s{(i % 6) + 1}"
    s = i % 6
    sex = "female" if rng.random() < 0.52 else "male"
    age = round(rng.uniform(30, 75), 1)
    diabetes = 1 if rng.random() < 0.12 else 0
    oa = 1 if rng.random() < 0.25 else 0
    pa = round(math.exp(rng.gauss(7.2, 1.1)))
    lmm = round(rng.gauss(30 - (4 if sex == "female" else 0) - 0.05 * (age - 50), 4), 2)
    inter = round(max(0.5, rng.gauss(8 + 0.06 * (age - 50) + (1.5 if sex == "female" else 0), 2.5)), 2)
    lp = (-1.6 + site_eff[s] - 0.06 * (lmm - 28) + 0.12 * (inter - 8.5) + 0.5 * oa + 0.3 * diabetes
          - (0.3 if 500 <= pa <= 5000 else 0))
    cbp = 1 if rng.random() < 1 / (1 + math.exp(-lp)) else 0
    pain = min(10, max(0, round(rng.gauss(2.5 + 2.5 * cbp, 2))))
    row = [f"C{i:04d}", site, sex, age, diabetes, oa, pa, lmm, inter, cbp, pain]
    if rng.random() < 0.04:
        row[7] = ""
    if rng.random() < 0.03:
        row[8] = ""
    if rng.random() < 0.02:
        row[6] = ""
    rows.append(row)
with open("cohort.csv", "w") as f:
    f.write("id,site,sex,age_years,diabetes,osteoarthritis,pa_met,lmm,intermat,cbp,pain_nrs\n")
    for r in rows:
        f.write(",".join(str(x) for x in r) + "\n")

with open("meta.csv", "w") as f:
    f.write("trial,year,duration_weeks,setting,outcome,n_t,mean_t,sd_t,events_t,n_c,mean_c,sd_c,events_c\n")
    for k in range(1, 13):
        dur = rng.choice([6, 8, 12, 16, 24])
        year = 2000 + k
        setting = "primary" if k % 3 else "hospital"
        nt, nc = rng.randint(20, 90), rng.randint(20, 90)
        d = -0.2 - 0.02 * dur + rng.gauss(0, 0.4)
        sd_t, sd_c = round(rng.uniform(1.5, 2.5), 2), round(rng.uniform(1.5, 2.5), 2)
        mean_c = round(rng.uniform(4, 6), 2)
        mean_t = round(mean_c + d * (sd_t + sd_c) / 2 + rng.gauss(0, 0.1), 2)
        f.write(f"Trial {chr(64 + k)} {year},{year},{dur},{setting},pain,{nt},{mean_t},{sd_t},,{nc},{mean_c},{sd_c},\n")
        et = rng.randint(3, nt // 2)
        ec = max(0, min(nc, int(et * nc / nt * rng.uniform(0.3, 1.2))))
        if k == 5:
            ec = 0
        f.write(f"Trial {chr(64 + k)} {year},{year},{dur},{setting},responder,{nt},,,{et},{nc},,,{ec}\n")
