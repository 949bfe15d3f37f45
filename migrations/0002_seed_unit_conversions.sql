-- Unit conversions the studies need. value_to = value_from * factor + offset.
-- Analyte-specific rows (analyte = variable code) win over generic ones ('').
INSERT INTO unit_conversion (from_unit, to_unit, analyte, factor, offset, note) VALUES
  -- mass concentration (hs-CRP, IL-6, TNF-alpha)
  ('mg/dL', 'mg/L', '', 10, 0, 'hs-CRP: one lab reports mg/dL'),
  ('mg/L', 'mg/dL', '', 0.1, 0, NULL),
  ('g/L', 'mg/L', '', 1000, 0, NULL),
  ('mg/L', 'g/L', '', 0.001, 0, NULL),
  ('ug/mL', 'mg/L', '', 1, 0, NULL),
  ('µg/mL', 'mg/L', '', 1, 0, NULL),
  ('mg/L', 'ug/mL', '', 1, 0, NULL),
  ('ng/mL', 'pg/mL', '', 1000, 0, NULL),
  ('pg/mL', 'ng/mL', '', 0.001, 0, NULL),
  ('ng/L', 'pg/mL', '', 1, 0, NULL),
  ('pg/mL', 'ng/L', '', 1, 0, NULL),
  ('ng/mL', 'ng/L', '', 1000, 0, NULL),
  ('nmol/L', 'mg/L', 'hscrp', 0.105, 0, 'CRP molar mass ~ 105 kDa (pentamer 1 nmol/L = 0.105 mg/L)'),
  -- volume (MRI metrics)
  ('mL', 'cm3', '', 1, 0, NULL),
  ('cm3', 'mL', '', 1, 0, NULL),
  ('L', 'cm3', '', 1000, 0, NULL),
  ('mm3', 'cm3', '', 0.001, 0, NULL),
  ('dm3', 'cm3', '', 1000, 0, NULL),
  -- proportions
  ('fraction', '%', '', 100, 0, NULL),
  ('%', 'fraction', '', 0.01, 0, NULL),
  -- anthropometry and age
  ('lb', 'kg', '', 0.45359237, 0, NULL),
  ('g', 'kg', '', 0.001, 0, NULL),
  ('in', 'cm', '', 2.54, 0, NULL),
  ('m', 'cm', '', 100, 0, NULL),
  ('mm', 'cm', '', 0.1, 0, NULL),
  ('months', 'years', '', 0.0833333333333333287, 0, '1/12'),
  ('weeks', 'days', '', 7, 0, NULL),
  ('days', 'weeks', '', 0.142857142857142849, 0, '1/7'),
  -- physical activity
  ('MET-h/week', 'MET-min/week', '', 60, 0, NULL),
  ('MET-min/day', 'MET-min/week', '', 7, 0, NULL),
  -- temperature
  ('degF', 'degC', '', 0.555555555555555580, -17.7777777777777786, '(F - 32) * 5/9'),
  -- pain scales
  ('VAS-mm', 'NRS', '', 0.1, 0, '0-100 mm VAS to 0-10 scale'),
  ('VAS-cm', 'NRS', '', 1, 0, '0-10 cm VAS to 0-10 scale');
