# Model exports that need a tool (docs/models.md): each runs the export in the analyzer's own
# local environment (RUNNER_ENVS_DIR/torch, made by `make envs`), from the full weights in the store,
# then hands the result to `runner models pull NAME --from <export folder>`, which checks the
# manifest's sha256 and moves it into the store atomically (or leaves the store as it was).
# Included by the Makefile. Needs network: Ultralytics' INT8 calibration downloads a small dataset,
# and the TFLite export installs its converter (tensorflow, onnx2tf) into that environment.
EXPORT_ENV ?= $(or $(RUNNER_ENVS_DIR),$(CURDIR)/.venvs)/torch
EXPORT_DIR ?= $(CURDIR)/.work/export

.PHONY: models-export-yolov8n-int8-tflite models-export-yolov8n-pose-int8-openvino

define _yolo_export
	@test -x $(EXPORT_ENV)/bin/yolo || { echo "no $(EXPORT_ENV)/bin/yolo: run make envs" >&2; exit 2; }
	@test -f $(RUNNER_MODELS_DIR)/ultralytics/$(1) || { echo "no $(RUNNER_MODELS_DIR)/ultralytics/$(1): runner models pull ultralytics-weights --from MIRROR (or the curl in docs/models.md)" >&2; exit 2; }
	rm -rf $(EXPORT_DIR)/$(2) && mkdir -p $(EXPORT_DIR)/$(2)/work $(EXPORT_DIR)/$(2)/mirror
	cp $(RUNNER_MODELS_DIR)/ultralytics/$(1) $(EXPORT_DIR)/$(2)/work/
	cd $(EXPORT_DIR)/$(2)/work && YOLO_CONFIG_DIR=$(EXPORT_DIR)/$(2)/cfg $(EXPORT_ENV)/bin/yolo export model=$(1) $(3)
	cd $(EXPORT_DIR)/$(2)/work && $(4)
	$(BIN)/runner models pull $(2) --from $(EXPORT_DIR)/$(2)/mirror || { echo "the export is in $(EXPORT_DIR)/$(2)/mirror; an export by another Ultralytics version has another sha256: update the manifest's sha256 deliberately if you trust it" >&2; exit 1; }
endef

models-export-yolov8n-int8-tflite: setup
	$(call _yolo_export,yolov8n.pt,yolov8n-int8-tflite,format=tflite int8=True,mkdir -p ../mirror/yolov8n_int8_tflite && cp yolov8n_saved_model/yolov8n_full_integer_quant.tflite yolov8n_saved_model/metadata.yaml ../mirror/yolov8n_int8_tflite/)

models-export-yolov8n-pose-int8-openvino: setup
	$(call _yolo_export,yolov8n-pose.pt,yolov8n-pose-int8-openvino,format=openvino int8=True batch=1 dynamic=True,mv yolov8n-pose_int8_openvino_model ../mirror/)
